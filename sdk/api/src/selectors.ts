import { Type, type Static } from '@sinclair/typebox';
import picomatch from 'picomatch';
import { ApiError } from './management-api.js';

/**
 * Repository and tag selectors, shaped like Harbor's (tag immutability, tag retention):
 * `{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }`.
 *
 * - `doublestar` globs: `*` stays within one path level, `**` crosses `/`, `?` is one character,
 *   `[a-z]` a class, `{a,b}` alternatives. A leading dot is an ordinary character.
 * - `regex`: a JavaScript regular expression, anchored at both ends (`app` selects the name `app`).
 *
 * A list of selectors selects a name when one of its `matches` selectors matches it (or it has
 * none) and none of its `excludes` selectors does.
 *
 * Patterns are checked when a rule is written ({@link compileRepositorySelectors} and
 * {@link compileTagSelectors} report every problem), so a bad pattern is a 400, never a failure
 * on the push path. Matching runs on the event loop, so patterns whose backtracking can blow up
 * are refused up front; the limits are heuristics, documented with each constant.
 * @see docs/adr/0031-tag-immutability.md
 * @since 0.2.0
 */

/** Longest pattern accepted. @since 0.2.0 */
export const SELECTOR_PATTERN_MAX_LENGTH = 256;

/**
 * Most `*` runs (`*` or `**`) a glob may chain along one path through its `{a,b}` alternatives.
 * Chained stars backtrack polynomially on a hostile name (about n^k/k! steps for k stars); three
 * keep the worst case for a 128-character tag well under 100 ms.
 * @since 0.2.0
 */
export const SELECTOR_GLOB_MAX_STARS = 3;

/**
 * Most unbounded repetitions (`*`, `+`, `{n,}`) a regular expression may hold, for the same
 * reason as {@link SELECTOR_GLOB_MAX_STARS}. Nested repetition (`(a+)+`, `(a|ab)*`), the
 * exponential case, and backreferences are refused outright.
 * @since 0.2.0
 */
export const SELECTOR_REGEX_MAX_REPETITIONS = 4;

/** Most selectors in one list. @since 0.2.0 */
export const SELECTOR_LIST_MAX_ITEMS = 10;

const KindSchema = Type.Union([Type.Literal('doublestar'), Type.Literal('regex')], {
  description: "`doublestar`: a glob (`*` within a level, `**` across `/`, `{a,b}`); `regex`: an anchored regular expression",
});
const PatternSchema = Type.String({ minLength: 1, maxLength: SELECTOR_PATTERN_MAX_LENGTH, description: 'The glob or regular expression' });

/**
 * One repository selector. Repository patterns are matched against whatever name the caller
 * passes (Harbor matches the name within the project, e.g. `team/app` for `library/team/app`).
 * @since 0.2.0
 */
export const RepositorySelectorSchema = Type.Object(
  {
    kind: KindSchema,
    decoration: Type.Union([Type.Literal('repoMatches'), Type.Literal('repoExcludes')], {
      description: '`repoMatches` selects matching repositories; `repoExcludes` leaves them out',
    }),
    pattern: PatternSchema,
  },
  { additionalProperties: false, description: 'A repository selector' },
);
/** @since 0.2.0 */
export type RepositorySelector = Static<typeof RepositorySelectorSchema>;

/** One tag selector. @since 0.2.0 */
export const TagSelectorSchema = Type.Object(
  {
    kind: KindSchema,
    decoration: Type.Union([Type.Literal('matches'), Type.Literal('excludes')], {
      description: '`matches` selects matching tags; `excludes` leaves them out',
    }),
    pattern: PatternSchema,
  },
  { additionalProperties: false, description: 'A tag selector' },
);
/** @since 0.2.0 */
export type TagSelector = Static<typeof TagSelectorSchema>;

/** A non-empty list of repository selectors, for request bodies. @since 0.2.0 */
export const RepositorySelectorListSchema = Type.Array(RepositorySelectorSchema, { minItems: 1, maxItems: SELECTOR_LIST_MAX_ITEMS });
/** A non-empty list of tag selectors, for request bodies. @since 0.2.0 */
export const TagSelectorListSchema = Type.Array(TagSelectorSchema, { minItems: 1, maxItems: SELECTOR_LIST_MAX_ITEMS });

/** True when a name is selected. @since 0.2.0 */
export type NameMatcher = (name: string) => boolean;

/** The compiled matcher, or every problem found, each prefixed with its JSON path. @since 0.2.0 */
export type SelectorCompileResult = { readonly ok: true; readonly match: NameMatcher } | { readonly ok: false; readonly errors: readonly string[] };

const GLOB_OPTIONS: picomatch.PicomatchOptions = {
  // Names are not file paths: a leading dot is an ordinary character.
  dot: true,
  // Harbor has no `!` negation or extglobs; `excludes` does that job.
  nonegate: true,
  noextglob: true,
  // An unclosed `[` or `{` is a typo to report, not a literal to match silently.
  strictBrackets: true,
  // Repository names always use `/`, whatever the host OS.
  windows: false,
};

/** Most `*` runs along one path through the glob's `{a,b}` alternatives (escapes and classes skipped). */
export function globStarDepth(pattern: string): number {
  let i = 0;
  // Returns the depth of a sequence, stopping at `,` or `}` of the enclosing group.
  const sequence = (): number => {
    let depth = 0;
    while (i < pattern.length) {
      const c = pattern[i];
      if (c === '\\') i += 2;
      else if (c === '[') {
        const close = pattern.indexOf(']', i + 2);
        i = close < 0 ? pattern.length : close + 1;
      } else if (c === '*') {
        depth += 1;
        while (pattern[i] === '*') i += 1;
      } else if (c === '{') {
        i += 1;
        let widest = sequence();
        while (pattern[i] === ',') {
          i += 1;
          widest = Math.max(widest, sequence());
        }
        i += 1; // the `}`
        depth += widest;
      } else if (c === ',' || c === '}') return depth;
      else i += 1;
    }
    return depth;
  };
  let total = 0;
  while (i < pattern.length) {
    total = Math.max(total, sequence());
    i += 1; // a stray `,` or `}` outside any group is a literal
  }
  return total;
}

/** The first backtracking hazard of a regular expression, or undefined. A heuristic, not a proof. */
export function regexHazard(pattern: string): string | undefined {
  // Per open group: whether it holds a repetition or an alternation.
  const groups: { repeats: boolean; alternates: boolean }[] = [];
  let unbounded = 0;
  let i = 0;
  const quantifierAt = (at: number): 'unbounded' | 'bounded' | undefined => {
    const c = pattern[at];
    if (c === '*' || c === '+') return 'unbounded';
    if (c === '?') return 'bounded';
    if (c === '{') {
      const m = /^\{\d+(,(\d*))?\}/.exec(pattern.slice(at));
      if (m) return m[1] !== undefined && m[2] === '' ? 'unbounded' : 'bounded';
    }
    return undefined;
  };
  const markRepeat = (): void => {
    for (const g of groups) g.repeats = true;
  };
  while (i < pattern.length) {
    const c = pattern[i];
    let atomEnd = i + 1;
    let closed: { repeats: boolean; alternates: boolean } | undefined;
    if (c === '\\') {
      if (/[1-9k]/.test(pattern[i + 1] ?? '')) return 'backreferences are not supported';
      atomEnd = i + 2;
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '^') j += 1;
      if (pattern[j] === ']') j += 1;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      atomEnd = j + 1;
    } else if (c === '(') {
      groups.push({ repeats: false, alternates: false });
      i += 1;
      if (pattern[i] === '?') i += pattern[i + 1] === '<' && pattern[i + 2] !== '=' && pattern[i + 2] !== '!' ? 1 : 2;
      continue;
    } else if (c === ')') {
      closed = groups.pop();
    } else if (c === '|') {
      const top = groups[groups.length - 1];
      if (top) top.alternates = true;
    }
    const q = quantifierAt(atomEnd);
    if (q === undefined) {
      i = atomEnd;
      continue;
    }
    const repeated = q === 'unbounded' || pattern[atomEnd] === '{';
    if (closed && repeated && (closed.repeats || closed.alternates)) return 'nested repetition (such as (a+)+ or (a|ab)*) can take exponential time';
    if (q === 'unbounded') {
      unbounded += 1;
      if (unbounded > SELECTOR_REGEX_MAX_REPETITIONS) return `more than ${SELECTOR_REGEX_MAX_REPETITIONS} unbounded repetitions (*, +, {n,})`;
    }
    if (repeated) markRepeat();
    if (closed && closed.repeats) markRepeat();
    i = atomEnd + 1;
    if (pattern[atomEnd] === '{') i = atomEnd + (/^\{[^}]*\}/.exec(pattern.slice(atomEnd))?.[0].length ?? 1);
    if (pattern[i] === '?') i += 1; // lazy
  }
  return undefined;
}

function compileOne(selector: unknown, where: string, decorations: readonly [string, string]): { include: boolean; match: NameMatcher } | string {
  // Rules come from JSON or a database, so the declared type is not a guarantee.
  if (typeof selector !== 'object' || selector === null) return `${where}: must be an object`;
  const raw = selector as Record<string, unknown>;
  const [matches, excludes] = decorations;
  if (raw['decoration'] !== matches && raw['decoration'] !== excludes) return `${where}.decoration: must be '${matches}' or '${excludes}'`;
  const pattern = raw['pattern'];
  if (typeof pattern !== 'string' || pattern.length === 0) return `${where}.pattern: must be a non-empty string`;
  if (pattern.length > SELECTOR_PATTERN_MAX_LENGTH) return `${where}.pattern: longer than ${SELECTOR_PATTERN_MAX_LENGTH} characters`;
  const include = raw['decoration'] === matches;
  if (raw['kind'] === 'doublestar') {
    if (globStarDepth(pattern) > SELECTOR_GLOB_MAX_STARS) return `${where}.pattern: more than ${SELECTOR_GLOB_MAX_STARS} '*' wildcards in a row of the glob ${JSON.stringify(pattern)}`;
    try {
      return { include, match: picomatch(pattern, GLOB_OPTIONS) };
    } catch (err) {
      return `${where}.pattern: invalid glob ${JSON.stringify(pattern)}: ${(err as Error).message}`;
    }
  }
  if (raw['kind'] === 'regex') {
    const hazard = regexHazard(pattern);
    if (hazard) return `${where}.pattern: regular expression ${JSON.stringify(pattern)} refused: ${hazard}`;
    try {
      // Anchored, so `app` selects the name `app`, not every name that contains it.
      const re = new RegExp(`^(?:${pattern})$`, 'u');
      return { include, match: (name: string) => re.test(name) };
    } catch (err) {
      return `${where}.pattern: invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`;
    }
  }
  return `${where}.kind: must be 'doublestar' or 'regex'`;
}

function compileList(selectors: unknown, path: string, decorations: readonly [string, string]): SelectorCompileResult {
  if (!Array.isArray(selectors)) return { ok: false, errors: [`${path}: must be an array`] };
  const includes: NameMatcher[] = [];
  const excludes: NameMatcher[] = [];
  const errors: string[] = [];
  selectors.forEach((selector: unknown, i) => {
    const compiled = compileOne(selector, `${path}[${i}]`, decorations);
    if (typeof compiled === 'string') errors.push(compiled);
    else (compiled.include ? includes : excludes).push(compiled.match);
  });
  if (errors.length > 0) return { ok: false, errors };
  const match: NameMatcher = (name) => (includes.length === 0 || includes.some((m) => m(name))) && !excludes.some((m) => m(name));
  return { ok: true, match };
}

/**
 * Compiles repository selectors. `path` prefixes each message (default `repositories`).
 * @since 0.2.0
 */
export function compileRepositorySelectors(selectors: readonly RepositorySelector[], path = 'repositories'): SelectorCompileResult {
  return compileList(selectors, path, ['repoMatches', 'repoExcludes']);
}

/**
 * Compiles tag selectors. `path` prefixes each message (default `tags`).
 * @since 0.2.0
 */
export function compileTagSelectors(selectors: readonly TagSelector[], path = 'tags'): SelectorCompileResult {
  return compileList(selectors, path, ['matches', 'excludes']);
}

/**
 * The matcher of a result, or an {@link ApiError} `BAD_REQUEST` listing every problem: what an
 * API operation calls on a request body's selectors.
 * @since 0.2.0
 */
export function selectorMatcherOrBadRequest(result: SelectorCompileResult): NameMatcher {
  if (result.ok) return result.match;
  throw new ApiError('BAD_REQUEST', result.errors.join('; '));
}
