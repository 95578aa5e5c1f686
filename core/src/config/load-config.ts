import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { KernelError, type WharfPlugin } from '@wharf/sdk';
import type { TSchema } from '@sinclair/typebox';
import { orderPlugins } from '../kernel/plugin-graph.js';
import { resolvePlugin } from '../kernel/plugin-resolver.js';
import { applyEnvOverrides, parseEnvOverrides } from './env.js';
import { deepFreeze, resolveConfig, semanticProblems } from './resolve.js';
import { buildConfigSchema, KernelConfigSchema, PLUGIN_SECTIONS, type PluginSchemaSlot, type PluginSectionName } from './schema.js';
import { preflightProblems } from './preflight.js';
import { placeholderWarnings, resolveSecretFiles } from './secret-files.js';
import { collectSecrets } from './secrets.js';
import type { LoadedConfig, LoadedPlugin, PluginSectionConfig } from './types.js';
import { formatProblem, joinPath, validateConfig, type ConfigProblem } from './validate.js';

/**
 * Loads the effective configuration: YAML file (or embedded defaults), environment overrides,
 * programmatic overrides; loads the plugins the file names; validates the whole file once
 * against the kernel schema merged with every plugin's schema. Nothing boots here.
 */

export interface LoadConfigOptions {
  /** YAML file; defaults to `WHARF_CONFIG`; without either, embedded defaults are used. */
  readonly file?: string | undefined;
  /** A config object used instead of a file (relative paths resolve from `cwd`). */
  readonly config?: Record<string, unknown> | undefined;
  /** Environment for `WHARF_*` overrides; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Applied last, over file and environment (e.g. CLI flags). Objects merge, arrays replace. */
  readonly overrides?: Record<string, unknown> | undefined;
  /** Plugins given in code; used for a config key with the same kind and id instead of a package. */
  readonly plugins?: readonly WharfPlugin[] | undefined;
  /**
   * A distribution's defaults for whole top-level sections (the `wharf` binary's
   * `extensions: { metrics: {} }`): used for a section the file (and environment) leaves out,
   * replaced whole by one it gives, like the kernel's own section defaults.
   */
  readonly sectionDefaults?: Record<string, unknown> | undefined;
  readonly cwd?: string | undefined;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge key by key; anything else (arrays included) replaces. */
export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Json, v) : structuredClone(v);
  }
  return out;
}

export function configInvalid(problems: readonly ConfigProblem[], file: string | undefined): KernelError {
  const where = file ? ` in ${file}` : '';
  const lines = problems.map((p) => `  - ${formatProblem(p)}`).join('\n');
  const plugins = [...new Set(problems.map((p) => p.plugin).filter((p): p is string => p !== undefined))];
  const err = new KernelError('REG_ERR_CONFIG_INVALID', `invalid configuration${where}:\n${lines}`, plugins.length === 1 ? { plugin: plugins[0] as string } : {});
  Object.defineProperty(err, 'problems', { value: problems, enumerable: false });
  return err;
}

/** The problems behind a `REG_ERR_CONFIG_INVALID` error. */
export function configProblems(err: unknown): readonly ConfigProblem[] {
  return ((err as { problems?: ConfigProblem[] } | undefined)?.problems ?? []) as readonly ConfigProblem[];
}

function withPlugin(problem: ConfigProblem, pluginAt: (path: string) => string | undefined): ConfigProblem {
  if (problem.plugin !== undefined) return problem;
  const plugin = pluginAt(problem.path);
  return plugin === undefined ? problem : { ...problem, plugin };
}

async function readConfigFile(file: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new KernelError('REG_ERR_CONFIG_READ', `cannot read config file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new KernelError('REG_ERR_CONFIG_READ', `config file ${file} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (!isObject(doc)) throw new KernelError('REG_ERR_CONFIG_READ', `config file ${file} must hold a mapping at the top level`);
  return doc;
}

interface Slot {
  readonly section: PluginSectionName;
  readonly key: string;
  readonly index: number | undefined;
  readonly configPath: string;
}

/** Plugin keys in file order: storage, auth (list order), rbac, replication, logging, extensions. */
function pluginSlots(raw: Json): Slot[] {
  const slots: Slot[] = [];
  for (const section of Object.keys(PLUGIN_SECTIONS) as PluginSectionName[]) {
    const value = raw[section];
    if (PLUGIN_SECTIONS[section].shape === 'list') {
      (Array.isArray(value) ? value : []).forEach((entry, index) => {
        const key = Object.keys(entry as Json)[0] as string;
        slots.push({ section, key, index, configPath: `${joinPath(joinPath(section, index), key)}` });
      });
    } else if (isObject(value)) {
      for (const key of Object.keys(value)) slots.push({ section, key, index: undefined, configPath: joinPath(section, key) });
    }
  }
  return slots;
}

/** A `null` section (`storage: { fs: }` in YAML) means "no settings". */
function normaliseSections(raw: Json): void {
  for (const section of Object.keys(PLUGIN_SECTIONS) as PluginSectionName[]) {
    const value = raw[section];
    if (value === null) delete raw[section];
    const entries = PLUGIN_SECTIONS[section].shape === 'list' ? (Array.isArray(value) ? value : []) : [value];
    for (const entry of entries) {
      if (!isObject(entry)) continue;
      for (const [k, v] of Object.entries(entry)) if (v === null) entry[k] = {};
    }
  }
}

/** Sink types the kernel writes itself; any other `log.sinks[].type` is a logging plugin's. */
export const BUILTIN_SINK_TYPES: readonly string[] = ['stdout', 'file'];

/**
 * A plugin sink type named in `log.sinks` loads its logging plugin as if `logging: { <type>: {} }`
 * were written, so an operator lists a sink once.
 */
function addSinkPlugins(raw: Json): void {
  const sinks = isObject(raw.log) && Array.isArray(raw.log.sinks) ? raw.log.sinks : [];
  for (const entry of sinks) {
    const type = isObject(entry) ? entry.type : undefined;
    if (typeof type !== 'string' || type === '' || BUILTIN_SINK_TYPES.includes(type)) continue;
    const section = isObject(raw.logging) ? raw.logging : (raw.logging = {});
    if (!(type in section)) section[type] = {};
  }
}

/**
 * A plugin section the file leaves out holds its default plugins. An environment override inside
 * it (`WHARF_EXTENSIONS__METRICS__SCRAPE_TOKEN`) changes that default: it must not replace it with
 * a section holding only the overridden plugin, which would unload every other default one.
 */
function seedOverriddenSections(raw: Json, overrides: readonly { segments: readonly string[] }[], sectionDefaults: Record<string, unknown> | undefined): void {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const sectionProps = (KernelConfigSchema as unknown as { properties: Record<string, { default?: unknown }> }).properties;
  for (const section of Object.keys(PLUGIN_SECTIONS)) {
    if (raw[section] !== undefined || !overrides.some((o) => norm(o.segments[0] ?? '') === norm(section))) continue;
    const fallback = sectionDefaults?.[section] ?? sectionProps[section]?.default;
    if (fallback !== undefined) raw[section] = structuredClone(fallback);
  }
}

function sectionOf(config: Json, slot: Slot): PluginSectionConfig {
  const section = config[slot.section];
  const holder = slot.index === undefined ? section : (section as unknown[])[slot.index];
  return (holder as Json)[slot.key] as PluginSectionConfig;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const fileOption = options.file ?? (options.config ? undefined : env.WHARF_CONFIG || undefined);
  const file = fileOption ? path.resolve(cwd, fileOption) : undefined;
  const baseDir = file ? path.dirname(file) : cwd;

  let raw: Json = file ? await readConfigFile(file) : structuredClone(options.config ?? {});
  const overrides = parseEnvOverrides(env);
  seedOverriddenSections(raw, overrides, options.sectionDefaults);
  const fileProblems: ConfigProblem[] = [];
  const deferred = applyEnvOverrides(raw, overrides, KernelConfigSchema as unknown as Json, { stopAtPlugins: true, cwd, problems: fileProblems });
  if (options.overrides) raw = deepMerge(raw, options.overrides);
  for (const [section, value] of Object.entries(options.sectionDefaults ?? {})) if (raw[section] === undefined) raw[section] = structuredClone(value);
  normaliseSections(raw);
  addSinkPlugins(raw);

  // Structure pass: kernel keys and the shape of plugin sections, so plugin keys can be trusted.
  // Problems elsewhere are reported by the full pass below, together with the plugins' own.
  const structural = validateConfig(KernelConfigSchema, raw);
  const inSections = structural.filter((p) => Object.keys(PLUGIN_SECTIONS).some((s) => p.path === s || p.path.startsWith(`${s}.`) || p.path.startsWith(`${s}[`)));
  if (inSections.length > 0) throw configInvalid(structural, file);

  const slots = pluginSlots(raw);
  const found: (Slot & { plugin: WharfPlugin; source: string | undefined })[] = [];
  for (const slot of slots) {
    const kind = PLUGIN_SECTIONS[slot.section].kind;
    const resolved = await resolvePlugin({ kind, key: slot.key, configPath: slot.configPath, baseDir, preloaded: options.plugins });
    found.push({ ...slot, ...resolved });
  }
  const ordered = orderPlugins(
    found.map((f) => ({ ...f, id: f.plugin.id, kind: f.plugin.kind, dependsOn: f.plugin.dependsOn })),
  );

  const schemaSlots: PluginSchemaSlot[] = found.map((f) => ({
    section: f.section,
    key: f.key,
    ...(f.index === undefined ? {} : { index: f.index }),
    schema: f.plugin.configSchema as TSchema,
  }));
  const schema = buildConfigSchema(schemaSlots);
  const owners = found.map((f) => ({ prefix: f.configPath, id: f.plugin.id }));
  const pluginAt = (p: string) =>
    owners.find((o) => p === o.prefix || p.startsWith(`${o.prefix}.`) || p.startsWith(`${o.prefix}[`))?.id;
  applyEnvOverrides(raw, deferred, schema as unknown as Json, { stopAtPlugins: false, cwd, problems: fileProblems });
  if (options.overrides && deferred.length > 0) raw = deepMerge(raw, options.overrides);
  // `bindPasswordFile: /run/secrets/ldap` becomes `bindPassword` before validation (ADR 0027).
  fileProblems.push(...resolveSecretFiles(raw, schema, baseDir));
  // An unreadable secret file would also read as a missing key: report the file alone.
  if (fileProblems.length > 0) throw configInvalid(fileProblems.map((p) => withPlugin(p, pluginAt)), file);

  const problems = [...validateConfig(schema, raw, pluginAt), ...semanticProblems(raw)];
  if (problems.length > 0) throw configInvalid(problems.map((p) => withPlugin(p, pluginAt)), file);

  const config = resolveConfig(raw, cwd);
  // Local files the boot would read (token keys) and the secret key's format: failing here
  // stops `serve` before it migrates or writes anything, and `config check` reports them.
  const local = preflightProblems(config, baseDir);
  if (local.length > 0) throw configInvalid(local, file);
  const secrets = collectSecrets(schema, config);
  const warnings = placeholderWarnings(config, secrets.paths).map((p) => withPlugin(p, pluginAt));
  const plugins: LoadedPlugin[] = ordered.map((f) => ({
    plugin: f.plugin,
    section: f.section,
    key: f.key,
    index: f.index,
    configPath: f.configPath,
    source: f.source,
    config: sectionOf(config as unknown as Json, f),
  }));
  deepFreeze(config);
  return Object.freeze({ config, plugins: Object.freeze(plugins), file, baseDir, schema, secrets, warnings: Object.freeze(warnings) });
}
