import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PLUGIN_SECTION_MARK } from './schema.js';
import { readSecretFile } from './secret-files.js';
import { joinPath, type ConfigProblem } from './validate.js';

/**
 * Environment overrides: `WHARF_SERVER__LISTEN=0.0.0.0:5000` sets `server.listen`. Nested keys
 * are joined by `__`; each segment matches a schema key case-insensitively with underscores and
 * dashes ignored (`DELETE_ENABLED` -> `deleteEnabled`); numeric segments index arrays
 * (`WHARF_AUTH__0__LDAP__URL`). Values are YAML scalars unless the schema says string.
 *
 * A variable ending in `_FILE` whose name without it is a key names a file holding the value
 * (`WHARF_SECRET_KEY_FILE=/run/secrets/wharf-key`), as container platforms mount secrets.
 *
 * Plugin schemas are unknown until the plugins are loaded, so overrides reaching into a plugin's
 * section are applied in two phases: the kernel part first (which may name a new plugin key),
 * the rest once the composite schema exists.
 */

export interface EnvOverride {
  readonly name: string;
  readonly segments: readonly string[];
  readonly raw: string;
}

const PREFIX = 'WHARF_';
/** Variables that are not config paths. */
const RESERVED = new Set(['WHARF_CONFIG']);

export function parseEnvOverrides(env: NodeJS.ProcessEnv): EnvOverride[] {
  const out: EnvOverride[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.toUpperCase().startsWith(PREFIX) || RESERVED.has(name.toUpperCase())) continue;
    const segments = name.slice(PREFIX.length).split('__').filter((s) => s.length > 0);
    if (segments.length > 0) out.push({ name, segments, raw });
  }
  // Deterministic: shorter paths first so `WHARF_DATABASE__CONNECTION__HOST` lands inside an object.
  return out.sort((a, b) => a.segments.length - b.segments.length || a.name.localeCompare(b.name));
}

type Json = Record<string, unknown>;
type SchemaNode = Json | undefined;

const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The schema and the branches of its unions (`connection: string | object`). */
function variants(schema: SchemaNode): Json[] {
  if (!schema) return [];
  const out: Json[] = [schema];
  for (const k of ['anyOf', 'oneOf', 'allOf']) {
    const branches = schema[k];
    if (Array.isArray(branches)) out.push(...branches.filter(isObject));
  }
  return out;
}

function matchKey(schema: SchemaNode, node: Json, segment: string): string | undefined {
  const want = norm(segment);
  const props = variants(schema).flatMap((v) => (isObject(v.properties) ? Object.keys(v.properties) : []));
  return [...props, ...Object.keys(node)].find((k) => norm(k) === want);
}

function childOf(schema: Json, key: string | number): SchemaNode {
  if (typeof key === 'number') {
    const items = schema.items;
    if (Array.isArray(items)) return items[key] as SchemaNode;
    return isObject(items) ? items : undefined;
  }
  const props = schema.properties;
  if (isObject(props) && isObject(props[key])) return props[key];
  const pattern = schema.patternProperties;
  if (isObject(pattern)) {
    const first = Object.values(pattern)[0];
    if (isObject(first)) return first;
  }
  return undefined;
}

function childSchema(schema: SchemaNode, key: string | number): SchemaNode {
  for (const v of variants(schema)) {
    const child = childOf(v, key);
    if (child) return child;
  }
  return undefined;
}

function wantsString(schema: SchemaNode): boolean {
  if (!schema) return false;
  if (schema.type === 'string') return true;
  const anyOf = schema.anyOf;
  // A union like "URL string or object": a scalar value is the string form.
  return Array.isArray(anyOf) && anyOf.some((s) => isObject(s) && s.type === 'string') && !anyOf.some((s) => isObject(s) && (s.type === 'number' || s.type === 'integer' || s.type === 'boolean'));
}

function parseValue(raw: string, schema: SchemaNode): unknown {
  if (wantsString(schema)) return raw;
  try {
    const value: unknown = parseYaml(raw);
    return value === null && raw.trim() !== '' && raw.trim() !== 'null' && raw.trim() !== '~' ? raw : value;
  } catch {
    return raw;
  }
}

export interface ApplyEnvOptions {
  readonly stopAtPlugins: boolean;
  /** `WHARF_..._FILE` paths resolve from here (default: the working directory). */
  readonly cwd?: string | undefined;
  /** Receives the problems of `_FILE` variables (unreadable or empty file). */
  readonly problems?: ConfigProblem[] | undefined;
}

const FILE_SUFFIX = /_FILE$/i;

/**
 * `WHARF_AUTH__0__LDAP__BIND_PASSWORD_FILE=/run/secrets/ldap`: the last segment names no key
 * but, without `_FILE`, does. Returns that key. A key whose own name ends in `File`
 * (`token.keys.signingKeyFile`) matched as itself before this is asked.
 */
function fileTarget(schema: SchemaNode, node: Json, segment: string): string | undefined {
  if (!FILE_SUFFIX.test(segment)) return undefined;
  return matchKey(schema, node, segment.replace(FILE_SUFFIX, ''));
}

/** The container-secret convention: the variable names a file holding the value. */
function setFromFile(node: Json, key: string, schema: SchemaNode, ov: EnvOverride, at: string, options: ApplyEnvOptions): void {
  const read = readSecretFile(path.resolve(options.cwd ?? process.cwd(), ov.raw));
  if ('problem' in read) {
    options.problems?.push({ path: at, message: `${ov.name}: ${read.problem}` });
    return;
  }
  node[key] = parseValue(read.value, schema);
}

/**
 * Applies overrides to `target` in place. With `stopAtPlugins`, overrides that go below a plugin
 * key are not applied (the plugin key is created) and returned, to be applied with the
 * composite schema later. Overrides whose first segment is not a kernel key are ignored.
 */
export function applyEnvOverrides(
  target: Json,
  overrides: readonly EnvOverride[],
  schema: Json,
  options: ApplyEnvOptions,
): EnvOverride[] {
  const deferred: EnvOverride[] = [];
  for (const ov of overrides) {
    let node: Json | unknown[] = target;
    let sch: SchemaNode = schema;
    let atPluginKeys = false;
    let pendingPluginKeys = false;
    let at = '';
    for (let i = 0; i < ov.segments.length; i++) {
      const seg = ov.segments[i] as string;
      const last = i === ov.segments.length - 1;
      let key: string | number;
      if (Array.isArray(node)) {
        if (!/^\d+$/.test(seg)) break;
        key = Number(seg);
      } else {
        const found = matchKey(sch, node, seg);
        const fromFile = last && found === undefined ? fileTarget(sch, node, seg) : undefined;
        if (fromFile !== undefined) {
          setFromFile(node, fromFile, childSchema(sch, fromFile), ov, joinPath(at, fromFile), options);
          break;
        }
        if (found === undefined && i === 0) break; // not a kernel key: some other WHARF_ variable
        key = found ?? (atPluginKeys ? seg.toLowerCase().replace(/_/g, '-') : seg.toLowerCase());
      }
      at = joinPath(at, key);
      const next = childSchema(sch, key);
      if (last) {
        (node as Json)[key as string] = parseValue(ov.raw, next);
        break;
      }
      const container = (node as Json)[key as string];
      const nextIsArray = next?.type === 'array' || Array.isArray(container);
      if (nextIsArray ? !Array.isArray(container) : !isObject(container)) {
        (node as Json)[key as string] = nextIsArray ? [] : {};
      }
      if (atPluginKeys && options.stopAtPlugins) {
        deferred.push(ov);
        break;
      }
      node = (node as Json)[key as string] as Json | unknown[];
      const mark = next?.[PLUGIN_SECTION_MARK];
      // Below a plugin map the keys are plugin ids; below a plugin list, one index level first.
      atPluginKeys = pendingPluginKeys || (mark !== undefined && next?.type !== 'array');
      pendingPluginKeys = mark !== undefined && next?.type === 'array';
      sch = next;
    }
  }
  return deferred;
}
