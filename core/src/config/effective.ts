import { Document } from 'yaml';
import type { WharfConfig } from './types.js';
import { DEFAULT_FROM, DEFAULT_UNLESS } from './schema.js';
import { joinPath } from './validate.js';

/**
 * What `wharf config print` shows: the effective config, including the defaults that are not
 * constants of a schema but derived at boot (`storage.fs.root` is the data directory,
 * `token.realm` follows the public URL). A schema declares such a default with
 * `'x-default-from': '{dataDir}/token/signing.pem'` (placeholders `{dataDir}` and
 * `{publicUrl}`), and, when another key given makes it moot, `'x-default-unless': 'signingKey'`.
 * Printed values carry a `# default` comment, so they are not mistaken for written ones.
 */


type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function variants(schema: unknown): Json[] {
  if (!isObject(schema)) return [];
  const out: Json[] = [schema];
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[k];
    if (Array.isArray(branches)) for (const b of branches) out.push(...variants(b));
  }
  return out;
}

function fill(schema: unknown, value: unknown, at: (string | number)[], vars: Record<string, string>, filled: (string | number)[][]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      for (const s of variants(schema)) {
        const items = s.items;
        fill(Array.isArray(items) ? items[i] : items, v, [...at, i], vars, filled);
      }
    });
    return;
  }
  if (!isObject(value)) return;
  for (const s of variants(schema)) {
    const props = isObject(s.properties) ? s.properties : {};
    for (const [key, prop] of Object.entries(props)) {
      if (!isObject(prop)) continue;
      const template = prop[DEFAULT_FROM];
      const unless = prop[DEFAULT_UNLESS];
      if (value[key] === undefined && typeof template === 'string' && !(typeof unless === 'string' && value[unless] !== undefined)) {
        value[key] = template.replace(/\{(\w+)\}/g, (m, name: string) => vars[name] ?? m);
        filled.push([...at, key]);
      }
      if (value[key] !== undefined) fill(prop, value[key], [...at, key], vars, filled);
    }
    if (isObject(s.additionalProperties) || isObject(s.patternProperties)) {
      for (const [key, v] of Object.entries(value)) {
        if (key in props) continue;
        const child = isObject(s.additionalProperties) ? s.additionalProperties : Object.values(s.patternProperties as Json)[0];
        fill(child, v, [...at, key], vars, filled);
      }
    }
  }
}

/** `config` (a copy, redacted or not) with derived defaults filled in, and their paths. */
export function withDerivedDefaults<T>(config: T, schema: unknown, settings: Pick<WharfConfig, 'dataDir'> & { server: { publicUrl: string } }): { config: T; filled: string[]; paths: (string | number)[][] } {
  const copy = structuredClone(config) as unknown;
  const filled: (string | number)[][] = [];
  fill(schema, copy, [], { dataDir: settings.dataDir, publicUrl: settings.server.publicUrl }, filled);
  return { config: copy as T, filled: filled.map((p) => p.reduce<string>((acc, k) => joinPath(acc, k), '')), paths: filled };
}

/** YAML of the effective config; derived defaults carry a `# default` comment. */
export function printEffective(config: unknown, schema: unknown, settings: Pick<WharfConfig, 'dataDir'> & { server: { publicUrl: string } }): string {
  const { config: full, paths } = withDerivedDefaults(config, schema, settings);
  const doc = new Document(full);
  for (const p of paths) {
    const node = doc.getIn(p, true) as { comment?: string | null } | undefined;
    if (node && typeof node === 'object') node.comment = ' default';
  }
  return doc.toString();
}
