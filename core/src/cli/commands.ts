import { stringify } from 'yaml';
import type { WharfPlugin } from '@wharf/sdk';
import { deepMerge, loadConfig } from '../config/load-config.js';
import { redactConfig } from '../config/secrets.js';
import { serveKernel, handleSignals } from '../http/server.js';
import { createKernel } from '../kernel/kernel.js';

/**
 * The CLI's commands; each returns the process exit code (serve keeps running). `plugins` are
 * the plugins the binary ships: a config key naming one of them loads it from there, without
 * resolving a package (the kernel itself depends on no plugin).
 */

export interface CommandContext {
  readonly plugins?: readonly WharfPlugin[] | undefined;
  /** The distribution's section defaults (see `LoadConfigOptions.sectionDefaults`). */
  readonly sectionDefaults?: Record<string, unknown> | undefined;
}

export interface ServeOptions {
  readonly config?: string;
  readonly listen?: string;
  readonly dataDir?: string;
}

export async function serveCommand(opts: ServeOptions, context: CommandContext = {}): Promise<number | undefined> {
  const overrides: Record<string, unknown> = {};
  if (opts.listen) overrides.server = { listen: opts.listen };
  if (opts.dataDir) overrides.dataDir = opts.dataDir;
  const loaded = await loadConfig({ file: opts.config, overrides: deepMerge({}, overrides), plugins: context.plugins, sectionDefaults: context.sectionDefaults });
  const kernel = createKernel(loaded);
  await kernel.boot();
  let handle;
  try {
    handle = await serveKernel(kernel);
  } catch (err) {
    await kernel.close();
    throw err;
  }
  handleSignals(handle, kernel.logger);
  return undefined;
}

/** The kernel's migrations and those every configured plugin declares; nothing else boots. */
export async function migrateCommand(opts: { config?: string }, context: CommandContext = {}): Promise<number> {
  const loaded = await loadConfig({ file: opts.config, plugins: context.plugins, sectionDefaults: context.sectionDefaults });
  await createKernel(loaded).migrate();
  return 0;
}

/** Loads the plugins and validates the whole file as boot would; touches nothing else. */
export async function configCheckCommand(file: string, out: (line: string) => void, context: CommandContext = {}): Promise<number> {
  await loadConfig({ file, plugins: context.plugins, sectionDefaults: context.sectionDefaults });
  out('ok');
  return 0;
}

export async function configPrintCommand(opts: { config?: string }, out: (text: string) => void, context: CommandContext = {}): Promise<number> {
  const loaded = await loadConfig({ file: opts.config, plugins: context.plugins, sectionDefaults: context.sectionDefaults });
  out(stringify(redactConfig(loaded.config, loaded.secrets)));
  return 0;
}
