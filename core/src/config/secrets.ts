import { joinPath } from './validate.js';

/**
 * Secrets are marked in schemas with `secret: true`. From the composite schema and the config we
 * derive the concrete secret paths (for printing the config) and the secret values (so log
 * output can be scrubbed of them whatever key a careless log call used).
 */

export const REDACTED = '[redacted]';

/** Keys treated as secret even when a schema forgot to mark them. */
const SECRET_KEY = /(password|secret|token)$/i;

export interface SecretInfo {
  /** Concrete paths of secret values, e.g. `auth[0].ldap.bindPassword`. */
  readonly paths: readonly string[];
  /** Secret string values (and passwords inside secret URLs), for scrubbing log output. */
  readonly values: readonly string[];
  /** Last key names of secret paths (`bindPassword`), for pino path redaction. */
  readonly keys: readonly string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeMatches(schema: Json, value: unknown): boolean {
  const t = schema.type;
  if (t === undefined) return true;
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  const types = Array.isArray(t) ? t : [t];
  return types.some((x) => x === actual || ((x === 'integer' || x === 'number') && actual === 'number'));
}

function walk(schema: unknown, value: unknown, path: string, out: Set<string>): void {
  if (!isObject(schema) || value === undefined) return;
  if (schema.secret === true && typeMatches(schema, value)) {
    out.add(path);
    return;
  }
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[k];
    if (Array.isArray(branches)) for (const b of branches) walk(b, value, path, out);
  }
  if (Array.isArray(value)) {
    const items = schema.items;
    value.forEach((v, i) => walk(Array.isArray(items) ? items[i] : items, v, joinPath(path, i), out));
    return;
  }
  if (!isObject(value)) return;
  const props = isObject(schema.properties) ? schema.properties : {};
  const patterns = isObject(schema.patternProperties) ? Object.values(schema.patternProperties) : [];
  for (const [key, v] of Object.entries(value)) {
    const p = joinPath(path, key);
    if (key in props) walk(props[key], v, p, out);
    else {
      for (const s of patterns) walk(s, v, p, out);
      if (isObject(schema.additionalProperties)) walk(schema.additionalProperties, v, p, out);
    }
  }
}

function walkNames(value: unknown, path: string, out: Set<string>): void {
  if (Array.isArray(value)) value.forEach((v, i) => walkNames(v, joinPath(path, i), out));
  else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      const p = joinPath(path, key);
      if (SECRET_KEY.test(key) && typeof v === 'string') out.add(p);
      else walkNames(v, p, out);
    }
  }
}

/** Splits `a.b[0].c` into keys and indexes. */
function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/\[("(?:[^"\\]|\\.)*")\]|\[(\d+)\]|([^.[\]]+)/g)) {
    if (m[1] !== undefined) out.push(JSON.parse(m[1]) as string);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(m[3] as string);
  }
  return out;
}

function getAt(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const k of splitPath(path)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[k];
  }
  return node;
}

/** Query parameters of connection URLs that carry secrets (`?password=`, `?sslpassword=`, `?token=`). */
const SECRET_QUERY_KEY = /pass|secret|token|key|credential|auth|sig/i;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;
const PLACEHOLDER = 'wharf-redacted-9f2c';

function parseUrl(value: string): URL | undefined {
  if (!URL_LIKE.test(value)) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** The secrets inside a URL: the userinfo password and the values of secret query parameters. */
function urlSecrets(value: string): string[] {
  const u = parseUrl(value);
  if (!u) return [];
  const out: string[] = [];
  if (u.password) out.push(u.password, safeDecode(u.password));
  for (const [key, v] of u.searchParams) if (SECRET_QUERY_KEY.test(key) && v) out.push(v, encodeURIComponent(v));
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A URL with its password and secret query values masked; `undefined` when it holds none. */
export function redactUrl(value: string): string | undefined {
  const u = parseUrl(value);
  if (!u) return undefined;
  let changed = false;
  if (u.password) {
    u.password = PLACEHOLDER;
    changed = true;
  }
  for (const key of [...new Set(u.searchParams.keys())]) {
    if (SECRET_QUERY_KEY.test(key)) {
      u.searchParams.set(key, PLACEHOLDER);
      changed = true;
    }
  }
  return changed ? u.toString().split(PLACEHOLDER).join(REDACTED) : undefined;
}

/** Every string in `value`, with its path. */
function eachString(value: unknown, path: string, fn: (v: string, path: string) => void): void {
  if (typeof value === 'string') fn(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => eachString(v, joinPath(path, i), fn));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) eachString(v, joinPath(path, k), fn);
}

/** The password of a URL string, if it has one. */
function urlPassword(value: string): string | undefined {
  try {
    const u = new URL(value);
    return u.password ? u.password : undefined;
  } catch {
    return undefined;
  }
}

export function collectSecrets(schema: unknown, config: unknown): SecretInfo {
  const paths = new Set<string>();
  walk(schema, config, '', paths);
  walkNames(config, '', paths);
  const values = new Set<string>();
  const keys = new Set<string>();
  for (const p of paths) {
    const v = getAt(config, p);
    const last = splitPath(p).at(-1);
    if (typeof last === 'string') keys.add(last);
    if (typeof v !== 'string' || v.length < 4) continue;
    values.add(v);
    const pw = urlPassword(v);
    if (pw && pw.length >= 4) {
      values.add(pw);
      values.add(decodeURIComponent(pw));
    }
  }
  // Passwords in any URL (a database or Redis URL, an LDAP url with userinfo), marked or not.
  eachString(config, '', (v) => {
    for (const secret of urlSecrets(v)) if (secret.length >= 4) values.add(secret);
  });
  return { paths: [...paths].sort(), values: [...values], keys: [...keys].sort() };
}

/** Masks a secret for printing: URLs keep everything but their password and secret query values. */
function mask(value: unknown): unknown {
  return (typeof value === 'string' ? redactUrl(value) : undefined) ?? REDACTED;
}

/**
 * A deep copy of `config` with every secret replaced by `[redacted]`, for printing; secrets
 * inside any URL (userinfo passwords, `?password=`) are masked whether or not a schema marked
 * the key.
 */
export function redactConfig<T>(config: T, secrets: Pick<SecretInfo, 'paths'>): T {
  const copy = structuredClone(config) as unknown;
  eachString(copy, '', (v, p) => {
    const masked = redactUrl(v);
    if (masked === undefined) return;
    const keys = splitPath(p);
    const last = keys.pop();
    const parent = getAt(copy, keys.reduce<string>((acc, k) => joinPath(acc, k), ''));
    if (last !== undefined && parent !== null && typeof parent === 'object') (parent as Record<string | number, unknown>)[last] = masked;
  });
  for (const p of secrets.paths) {
    const keys = splitPath(p);
    const last = keys.pop();
    if (last === undefined) continue;
    const parent = getAt(copy, keys.reduce<string>((acc, k) => joinPath(acc, k), ''));
    if (parent !== null && typeof parent === 'object' && (parent as Record<string | number, unknown>)[last] !== undefined) {
      (parent as Record<string | number, unknown>)[last] = mask((parent as Record<string | number, unknown>)[last]);
    }
  }
  return copy as T;
}
