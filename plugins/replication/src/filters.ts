import { Type, type Static } from '@wharf/sdk';
import picomatch from 'picomatch';

/**
 * Source filters of a replication policy: which repositories and tags a policy copies.
 * Globs follow Harbor's doublestar rules (`*` stays within a path level, `**` crosses `/`, `?` is
 * one character, `{a,b}` alternatives); regular expressions are a Wharf extension Harbor lacks.
 */

/** Longest pattern accepted: keeps stored policies small and bounds the cost of a regex. */
export const MAX_PATTERN_LENGTH = 256;

/** One pattern as stored in a policy (JSON); the schema is the source of the type. */
export const FilterPatternSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('glob'), Type.Literal('regex')]),
    pattern: Type.String({ minLength: 1, maxLength: MAX_PATTERN_LENGTH }),
    decision: Type.Union([Type.Literal('include'), Type.Literal('exclude')]),
  },
  { additionalProperties: false },
);
export type FilterPattern = Static<typeof FilterPatternSchema>;

/** Patterns on repository names (`team/app`). */
export type RepositoryFilter = readonly FilterPattern[];
/** Patterns on tags (`1.2.3`). */
export type TagFilter = readonly FilterPattern[];

/** Both filters of a policy, shaped like the policy's `filters` field. */
export interface SourceFilters {
  readonly repositories: RepositoryFilter;
  readonly tags: TagFilter;
}

/** True when a name passes the filter. */
export type NameMatcher = (name: string) => boolean;

export interface SourceMatchers {
  readonly repository: NameMatcher;
  readonly tag: NameMatcher;
}

/** Either the compiled value or every problem found, each prefixed with its JSON path. */
export type CompileResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly string[] };

const GLOB_OPTIONS: picomatch.PicomatchOptions = {
  // Names are not file paths: a leading dot is an ordinary character.
  dot: true,
  // Harbor has no `!` negation or extglobs; `exclude` does that job.
  nonegate: true,
  noextglob: true,
  // Unclosed `[` or `{` is a typo to report, not a literal to match silently.
  strictBrackets: true,
  // Repository names always use `/`, whatever the host OS.
  windows: false,
};

function compileOne(spec: FilterPattern, where: string): NameMatcher | string {
  // Policies come from JSON, so the declared type is not a guarantee.
  const raw: Partial<Record<keyof FilterPattern, unknown>> = spec;
  if (raw.decision !== 'include' && raw.decision !== 'exclude') return `${where}.decision: must be 'include' or 'exclude'`;
  if (typeof raw.pattern !== 'string' || raw.pattern.length === 0) return `${where}.pattern: must be a non-empty string`;
  if (raw.pattern.length > MAX_PATTERN_LENGTH) return `${where}.pattern: longer than ${MAX_PATTERN_LENGTH} characters`;
  const pattern = raw.pattern;
  if (raw.kind === 'glob') {
    try {
      return picomatch(pattern, GLOB_OPTIONS);
    } catch (err) {
      return `${where}: invalid glob: ${(err as Error).message}`;
    }
  }
  if (raw.kind === 'regex') {
    try {
      // Anchored so `app` means the name `app`, not any name containing it (as Harbor's globs do).
      const re = new RegExp(`^(?:${pattern})$`);
      return (name) => re.test(name);
    } catch (err) {
      return `${where}: invalid regular expression: ${(err as Error).message}`;
    }
  }
  return `${where}.kind: must be 'glob' or 'regex'`;
}

/**
 * Compiles one filter. A name passes when there is no include pattern or one of them matches,
 * and no exclude pattern matches. `path` prefixes messages, e.g. `filters.tags`.
 */
export function compileFilter(patterns: readonly FilterPattern[], path: string): CompileResult<NameMatcher> {
  if (!Array.isArray(patterns)) return { ok: false, errors: [`${path}: must be an array`] };
  const includes: NameMatcher[] = [];
  const excludes: NameMatcher[] = [];
  const errors: string[] = [];
  patterns.forEach((spec, i) => {
    const where = `${path}[${i}]`;
    if (typeof spec !== 'object' || spec === null) {
      errors.push(`${where}: must be an object`);
      return;
    }
    const compiled = compileOne(spec, where);
    if (typeof compiled === 'string') errors.push(compiled);
    else (spec.decision === 'include' ? includes : excludes).push(compiled);
  });
  if (errors.length > 0) return { ok: false, errors };
  const match: NameMatcher = (name) =>
    (includes.length === 0 || includes.some((m) => m(name))) && !excludes.some((m) => m(name));
  return { ok: true, value: match };
}

/** Compiles both filters of a policy; messages use the paths `filters.repositories[i]` and `filters.tags[i]`. */
export function compileSourceFilters(filters: SourceFilters): CompileResult<SourceMatchers> {
  const repository = compileFilter(filters.repositories, 'filters.repositories');
  const tag = compileFilter(filters.tags, 'filters.tags');
  if (repository.ok && tag.ok) return { ok: true, value: { repository: repository.value, tag: tag.value } };
  return { ok: false, errors: [...(repository.ok ? [] : repository.errors), ...(tag.ok ? [] : tag.errors)] };
}
