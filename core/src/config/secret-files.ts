import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigProblem } from './validate.js';
import { joinPath } from './validate.js';

/**
 * Secrets kept out of the config file (ADR 0027). Every key a schema marks `secret: true` may
 * instead be given as a sibling `<key>File` naming a file that holds the value (relative to the
 * config file), as container platforms mount secrets: `bindPasswordFile: /run/secrets/ldap`.
 * The environment has the same convention (`WHARF_..._FILE`, see env.ts). Trailing newlines are
 * dropped; a missing, unreadable or empty file is a config problem at the `<key>File` path.
 * The value lands at `<key>` before validation, so the schema, the redaction of logs and
 * `config print` treat it exactly as an inline secret.
 */

export const SECRET_FILE_SUFFIX = 'File';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema and the branches of its unions. */
function variants(schema: unknown): Json[] {
  if (!isObject(schema)) return [];
  const out: Json[] = [schema];
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[k];
    if (Array.isArray(branches)) for (const b of branches) out.push(...variants(b));
  }
  return out;
}

/** A key marked secret (or a union with a secret branch, like a connection URL or object). */
export function isSecretSchema(schema: unknown): boolean {
  return variants(schema).some((v) => v.secret === true);
}

function propertiesOf(schema: unknown): Json {
  const out: Json = {};
  for (const v of variants(schema)) if (isObject(v.properties)) Object.assign(out, v.properties);
  return out;
}

/** The schemas that may describe `value[key]` (properties, pattern and additional properties). */
function childSchemas(schema: unknown, key: string | number): unknown[] {
  const out: unknown[] = [];
  for (const v of variants(schema)) {
    if (typeof key === 'number') {
      const items = v.items;
      if (Array.isArray(items)) out.push(items[key]);
      else if (isObject(items)) out.push(items);
      continue;
    }
    if (isObject(v.properties) && key in v.properties) out.push(v.properties[key]);
    else {
      if (isObject(v.patternProperties)) out.push(...Object.values(v.patternProperties));
      if (isObject(v.additionalProperties)) out.push(v.additionalProperties);
    }
  }
  return out;
}

/** Reads a secret file: the text without trailing newlines, or why it cannot be used. */
export function readSecretFile(file: string): { value: string } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    return { problem: `cannot read the secret file ${file}: ${why}` };
  }
  const value = text.replace(/[\r\n]+$/, '');
  if (value === '') return { problem: `the secret file ${file} is empty` };
  return { value };
}

function walk(schema: unknown, value: unknown, at: string, baseDir: string, problems: ConfigProblem[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      for (const s of childSchemas(schema, i)) walk(s, v, joinPath(at, i), baseDir, problems);
    });
    return;
  }
  if (!isObject(value)) return;
  const props = propertiesOf(schema);
  for (const key of Object.keys(value)) {
    if (!key.endsWith(SECRET_FILE_SUFFIX) || key in props) continue;
    const target = key.slice(0, -SECRET_FILE_SUFFIX.length);
    if (!(target in props) || !isSecretSchema(props[target])) continue;
    const where = joinPath(at, key);
    const file = value[key];
    if (typeof file !== 'string' || file === '') {
      problems.push({ path: where, message: 'must be the path of a file holding the secret' });
      continue;
    }
    if (value[target] !== undefined) {
      problems.push({ path: where, message: `set either ${target} or ${key}, not both` });
      continue;
    }
    const read = readSecretFile(path.resolve(baseDir, file));
    if ('problem' in read) {
      problems.push({ path: where, message: read.problem });
      continue;
    }
    delete value[key];
    value[target] = read.value;
  }
  for (const [key, v] of Object.entries(value)) {
    for (const s of childSchemas(schema, key)) walk(s, v, joinPath(at, key), baseDir, problems);
  }
}

/**
 * Replaces every `<key>File` of a secret key in `raw` (in place) by `<key>` holding the file's
 * content; returns the problems (unreadable files, both forms given).
 */
export function resolveSecretFiles(raw: Json, schema: unknown, baseDir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  walk(schema, raw, '', baseDir, problems);
  return problems;
}

const PLACEHOLDER = /\$\{[^}\s]*\}/;

/** `auth[0].ldap.bindPassword` -> `WHARF_AUTH__0__LDAP__BIND_PASSWORD`. */
export function envNameOf(configPath: string): string {
  const segments = [...configPath.matchAll(/\[("(?:[^"\\]|\\.)*")\]|\[(\d+)\]|([^.[\]]+)/g)].map((m) =>
    m[1] !== undefined ? (JSON.parse(m[1]) as string) : (m[2] ?? m[3] ?? ''),
  );
  const upper = segments.map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase());
  return `WHARF_${upper.join('__')}`;
}

function eachString(value: unknown, at: string, fn: (v: string, at: string) => void): void {
  if (typeof value === 'string') fn(value, at);
  else if (Array.isArray(value)) value.forEach((v, i) => eachString(v, joinPath(at, i), fn));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) eachString(v, joinPath(at, k), fn);
}

/**
 * Values that look like `${VARIABLE}`: Wharf expands no variables, so they are used literally
 * (an LDAP bind password `${LDAP_BIND_PASSWORD}` fails every login). The message names the
 * variable form and the file form that work, never the value.
 */
export function placeholderWarnings(config: unknown, secretPaths: readonly string[]): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  eachString(config, '', (v, at) => {
    if (!PLACEHOLDER.test(v)) return;
    const key = at.split(/[.[]/).at(-1) ?? at;
    const fileForm = secretPaths.includes(at) ? ` or ${key}${SECRET_FILE_SUFFIX}: <file>` : '';
    warnings.push({
      path: at,
      message: `holds a \${...} placeholder, which Wharf does not expand (the text is used as it is); set the value with the environment variable ${envNameOf(at)}${fileForm}`,
    });
  });
  return warnings;
}
