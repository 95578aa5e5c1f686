import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { distance } from 'fastest-levenshtein';
import { HINT, PLUGIN_SECTION_MARK, PLUGIN_SECTIONS } from './schema.js';

/**
 * Validates a config object against a (composite) schema with ajv and turns ajv's errors into
 * one line per problem, each starting with the exact path in the file (`auth[1].ldap.url`).
 */

type FormatsPlugin = (ajv: Ajv) => Ajv;
// ajv-formats is CommonJS with an `exports.default`; under NodeNext the default import is the module.
const addFormats: FormatsPlugin =
  (formatsModule as unknown as { default?: FormatsPlugin }).default ?? (formatsModule as unknown as FormatsPlugin);

/** A config problem at a path. `plugin` is set when the path is inside a plugin's section. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
  readonly plugin?: string;
}

/** A fresh ajv per validation: schemas carry `$id`s and plugin schemas differ from run to run. */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true, coerceTypes: false });
  addFormats(ajv);
  // `secret: true` marks a value to redact; it never fails validation.
  ajv.addKeyword({ keyword: 'secret', schemaType: 'boolean' });
  return ajv;
}

/** `/auth/1/ldap/url` -> `auth[1].ldap.url` */
export function pointerToPath(pointer: string): string {
  if (!pointer) return '';
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out = joinPath(out, /^\d+$/.test(seg) ? Number(seg) : seg);
  }
  return out;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/** Appends a key: `a.b`, `a[0]`, or `a["./plugins/x"]` for keys that are not plain names. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (!PLAIN_KEY.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base ? `${base}.${key}` : key;
}

/** Top-level keys the kernel once had, and where their settings live now. */
const MOVED_KEYS: Readonly<Record<string, string>> = Object.freeze({
  replicationEngine: 'extensions.replication (the replication plugin, same keys)',
});

function describe(err: ErrorObject): { path: string; message: string } {
  const path = pointerToPath(err.instancePath);
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return { path: joinPath(path, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const moved = MOVED_KEYS[joinPath(path, key)];
      if (moved) return { path: joinPath(path, key), message: `is not a known key: it moved to ${moved}` };
      const known = Object.keys(((err.parentSchema as Record<string, unknown> | undefined)?.properties ?? {}) as object);
      const guess = closestKey(key, known);
      return { path: joinPath(path, key), message: guess === undefined ? 'is not a known key' : `is not a known key; did you mean "${guess}"?` };
    }
    case 'maxProperties':
    case 'minProperties':
      return { path, message: propertiesCount(err, path) };
    case 'enum':
      return { path, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern': {
      const hint = (err.parentSchema as Record<string, unknown> | undefined)?.[HINT];
      return { path, message: typeof hint === 'string' ? `must be ${hint}` : err.message ?? 'is invalid' };
    }
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}` };
    default:
      return { path, message: err.message ?? 'is invalid' };
  }
}

/** The known key a misspelt one most likely meant: same letters in another case, or a close edit. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameLetters = known.find((k) => k.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  // A third of the name may differ (at least two edits): `publicUrll`, `pubicUrl`, `listn`.
  const limit = Math.max(2, Math.floor(key.length / 3));
  let best: { key: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d <= limit && (best === undefined || d < best.d)) best = { key: k, d };
  }
  return best?.key;
}

const listWords = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

/**
 * `maxProperties`/`minProperties` in words. Plugin sections say what to choose
 * (`storage: choose one storage plugin, found fs and s3`), an `auth` entry that it names one.
 */
function propertiesCount(err: ErrorObject, path: string): string {
  const schema = (err.parentSchema ?? {}) as Record<string, unknown>;
  const found = err.data !== null && typeof err.data === 'object' ? Object.keys(err.data as object) : [];
  const limit = Number((err.params as { limit?: unknown }).limit);
  const kind = schema[PLUGIN_SECTION_MARK];
  const entryOf = /^([A-Za-z]+)\[\d+\]$/.exec(path)?.[1];
  const listKind = entryOf !== undefined && entryOf in PLUGIN_SECTIONS ? PLUGIN_SECTIONS[entryOf as keyof typeof PLUGIN_SECTIONS].kind : undefined;
  if (typeof kind === 'string' || listKind !== undefined) {
    const what = `${typeof kind === 'string' ? kind : listKind} plugin`;
    if (listKind !== undefined) return found.length === 0 ? `name one ${what} per entry, e.g. - db: {}` : `name one ${what} per entry, found ${listWords(found)}`;
    if (err.keyword === 'minProperties') return `choose one ${what}, e.g. ${kind === 'storage' ? 'fs: {}' : '<id>: {}'}`;
    return `${limit === 1 ? `choose ${schema.minProperties === 1 ? 'one' : 'at most one'}` : `choose at most ${limit}`} ${what}${limit === 1 ? '' : 's'}, found ${listWords(found)}`;
  }
  if (err.keyword === 'minProperties') return `must have at least ${limit} key${limit === 1 ? '' : 's'}`;
  return `must have at most ${limit} key${limit === 1 ? '' : 's'}, found ${listWords(found)}`;
}

/**
 * ajv reports every failed branch of an `anyOf`: fold them into one readable line
 * ("must be string or object", or the literal choices) unless a branch failed deeper inside.
 */
export function foldAnyOf(errors: ErrorObject[]): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  if (anyOfs.length === 0) return errors;
  const drop = new Set<ErrorObject>();
  const replace = new Map<ErrorObject, ErrorObject>();
  for (const any of anyOfs) {
    const prefix = `${any.schemaPath}/`;
    const branches = errors.filter((e) => e !== any && e.schemaPath.startsWith(prefix));
    const deeper = branches.filter((e) => e.instancePath !== any.instancePath);
    if (deeper.length > 0) {
      // A branch matched the type and failed inside: its errors are the useful ones.
      for (const b of branches) if (b.instancePath === any.instancePath) drop.add(b);
      drop.add(any);
      continue;
    }
    // A branch of the right type that failed a rule (minimum, minLength...) says what is wrong.
    const ofRightType = branches.filter((b) => !['type', 'const', 'enum'].includes(b.keyword));
    if (ofRightType.length > 0) {
      for (const b of branches) if (!ofRightType.includes(b)) drop.add(b);
      drop.add(any);
      continue;
    }
    for (const b of branches) drop.add(b);
    const consts = branches.filter((b) => b.keyword === 'const').map((b) => JSON.stringify((b.params as { allowedValue: unknown }).allowedValue));
    const types = [...new Set(branches.filter((b) => b.keyword === 'type').map((b) => String((b.params as { type: unknown }).type)))];
    let message = 'must match one of the allowed forms';
    if (consts.length === branches.length && consts.length > 0) message = `must be one of ${consts.join(', ')}`;
    else if (types.length > 0 && types.length === branches.length) message = `must be ${types.join(' or ')}`;
    replace.set(any, { ...any, message, keyword: 'anyOf-folded' });
  }
  return errors.filter((e) => !drop.has(e) || replace.has(e)).map((e) => replace.get(e) ?? e);
}

/**
 * Validators by the schema's JSON text: compiling the composite schema costs about 0.2 s of CPU,
 * and a process that boots several kernels (the tests, `wharf` commands that check then serve)
 * validates the same schema each time. Keyed by content, not identity: each load builds the
 * schema anew. Everything ajv and the messages read is in the JSON (TypeBox's symbols are not).
 */
const COMPILED = new Map<string, ValidateFunction>();
const COMPILED_MAX = 16;

function compiled(schema: TSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = COMPILED.get(key);
  if (!validate) {
    validate = createAjv().compile(schema);
    if (COMPILED.size >= COMPILED_MAX) COMPILED.delete(COMPILED.keys().next().value as string);
    COMPILED.set(key, validate);
  }
  return validate;
}

/**
 * Validates `data` in place (defaults are filled in). `pluginAt` names the plugin owning a path.
 */
export function validateConfig(
  schema: TSchema,
  data: unknown,
  pluginAt: (path: string) => string | undefined = () => undefined,
): ConfigProblem[] {
  const validate = compiled(schema);
  if (validate(data)) return [];
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const err of foldAnyOf(validate.errors ?? [])) {
    const { path, message } = describe(err);
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const plugin = pluginAt(path);
    problems.push(plugin === undefined ? { path, message } : { path, message, plugin });
  }
  return problems;
}

/** One line per problem: `storage.fs.root: must be string (plugin fs)`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.path || '(root)';
  return `${where}: ${p.message}${p.plugin ? ` (plugin ${p.plugin})` : ''}`;
}
