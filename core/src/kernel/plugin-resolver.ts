import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import semver from 'semver';
import { isWharfPlugin, KernelError, type PluginKind, type WharfPlugin } from '@wharf/sdk';
import { KERNEL_VERSION } from '../version.js';

/**
 * Finds the module behind a config key and checks the plugin it exports: brand, api version,
 * kind, id and kernel range. Resolution tries the config file's directory first (plugins
 * installed next to a wharf.yaml), then core's own location (first-party plugins).
 */

export interface ResolveRequest {
  readonly kind: PluginKind;
  /** The key as written in the file. */
  readonly key: string;
  /** Where the key sits in the file, for messages (`storage.fs`). */
  readonly configPath: string;
  /** Directory of the config file (or the working directory). */
  readonly baseDir: string;
  /** Plugins handed over in code; they win over packages with the same kind and id. */
  readonly preloaded?: readonly WharfPlugin[];
}

export interface ResolvedPlugin {
  readonly plugin: WharfPlugin;
  readonly source: string | undefined;
}

/** True when the key names a module rather than a plugin id. */
export function isModuleKey(key: string): boolean {
  return key.startsWith('@') || key.startsWith('.') || key.startsWith('/') || path.isAbsolute(key);
}

/** The package names a key stands for, in the order they are tried. */
export function candidatePackages(kind: PluginKind, key: string, baseDir: string): string[] {
  if (key.startsWith('.') || path.isAbsolute(key)) return [path.resolve(baseDir, key)];
  if (key.startsWith('@')) return [key];
  // First-party extensions are named for what they do, not their kind: `@wharf/plugin-webhooks`.
  if (kind === 'extension') return [`@wharf/plugin-${kind}-${key}`, `@wharf/plugin-${key}`, `wharf-plugin-${kind}-${key}`, `wharf-plugin-${key}`];
  return [`@wharf/plugin-${kind}-${key}`, `wharf-plugin-${kind}-${key}`];
}

function tryResolve(specifier: string, fromDir: string): string | undefined {
  try {
    return createRequire(path.join(fromDir, '__wharf_resolve__.js')).resolve(specifier);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

const coreDir = path.dirname(fileURLToPath(import.meta.url));

function pickExport(mod: Record<string, unknown>, kind: PluginKind, key: string): WharfPlugin | undefined {
  if (isWharfPlugin(mod.default)) return mod.default;
  const all = Object.values(mod).filter(isWharfPlugin);
  return all.find((p) => p.kind === kind && p.id === key) ?? all[0];
}

/** Checks what the kernel needs of any plugin, however it was found. */
export function checkPlugin(plugin: unknown, req: Pick<ResolveRequest, 'kind' | 'key' | 'configPath'>, source?: string): WharfPlugin {
  const from = source ? ` (from ${source})` : '';
  if (!isWharfPlugin(plugin)) {
    throw new KernelError('REG_ERR_PLUGIN_INVALID', `${req.configPath}: the module exports no Wharf plugin (made with definePlugin)${from}`, { plugin: req.key });
  }
  const id = typeof plugin.id === 'string' ? plugin.id : String(plugin.id);
  if (plugin.apiVersion !== 1) {
    throw new KernelError('REG_ERR_PLUGIN_INVALID', `plugin "${id}" at ${req.configPath} uses plugin API version ${String(plugin.apiVersion)}; this kernel supports 1${from}`, { plugin: id });
  }
  if (plugin.kind !== req.kind) {
    throw new KernelError('REG_ERR_PLUGIN_KIND_MISMATCH', `plugin "${id}" at ${req.configPath} is a ${plugin.kind} plugin, not ${req.kind}${from}`, { plugin: id });
  }
  if (!isModuleKey(req.key) && id !== req.key) {
    throw new KernelError('REG_ERR_PLUGIN_INVALID', `${req.configPath}: the package declares plugin id "${id}", expected "${req.key}"${from}`, { plugin: id });
  }
  if (typeof plugin.register !== 'function' || typeof plugin.configSchema !== 'object' || plugin.configSchema === null) {
    throw new KernelError('REG_ERR_PLUGIN_INVALID', `plugin "${id}" at ${req.configPath} lacks register() or configSchema${from}`, { plugin: id });
  }
  if (semver.validRange(plugin.kernel) === null) {
    throw new KernelError('REG_ERR_PLUGIN_INVALID', `plugin "${id}" declares an invalid kernel range "${plugin.kernel}"`, { plugin: id });
  }
  if (!semver.satisfies(KERNEL_VERSION, plugin.kernel, { includePrerelease: true })) {
    throw new KernelError(
      'REG_ERR_PLUGIN_KERNEL_MISMATCH',
      `plugin "${id}" ${plugin.version} needs kernel ${plugin.kernel}, but this is kernel ${KERNEL_VERSION}`,
      { plugin: id },
    );
  }
  return plugin;
}

/** Resolves, imports and checks the plugin a config key names. */
export async function resolvePlugin(req: ResolveRequest): Promise<ResolvedPlugin> {
  const given = req.preloaded?.find((p) => p.kind === req.kind && p.id === req.key);
  if (given) return { plugin: checkPlugin(given, req), source: undefined };

  const candidates = candidatePackages(req.kind, req.key, req.baseDir);
  const dirs = [...new Set([req.baseDir, coreDir])];
  let file: string | undefined;
  let specifier: string | undefined;
  for (const candidate of candidates) {
    for (const dir of dirs) {
      try {
        file = tryResolve(candidate, dir);
      } catch (err) {
        throw new KernelError('REG_ERR_PLUGIN_INVALID', `${req.configPath}: cannot resolve ${candidate}: ${(err as Error).message}`, { plugin: req.key, cause: err });
      }
      if (file) break;
    }
    if (file) {
      specifier = candidate;
      break;
    }
  }
  if (!file || !specifier) {
    throw new KernelError(
      'REG_ERR_PLUGIN_NOT_FOUND',
      `${req.configPath}: no ${req.kind} plugin "${req.key}"; tried ${candidates.join(', ')} from ${dirs.join(' and ')}`,
      { plugin: req.key },
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new KernelError('REG_ERR_PLUGIN_INVALID', `${req.configPath}: loading ${specifier} failed: ${(err as Error).message}`, { plugin: req.key, cause: err });
  }
  return { plugin: checkPlugin(pickExport(mod, req.kind, req.key), req, specifier), source: specifier };
}
