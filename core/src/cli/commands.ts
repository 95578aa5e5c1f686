import type { WharfPlugin } from '@wharf/sdk';
import type { Logger } from 'pino';
import { printEffective } from '../config/effective.js';
import { configInvalid, deepMerge, loadConfig } from '../config/load-config.js';
import { parseListen } from '../config/resolve.js';
import type { LoadedConfig } from '../config/types.js';
import { formatProblem, type ConfigProblem } from '../config/validate.js';
import { createLogger } from '../logging/logger.js';
import { redactConfig } from '../config/secrets.js';
import { bindServer, serveKernel, handleSignals } from '../http/server.js';
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
  logConfigWarnings(loaded, kernel.logger);
  // The address before booting: a taken port fails before migrations, keys or the administrator exist.
  const bound = await bindServer(loaded.config.server.listen).catch(async (err: unknown) => {
    await kernel.close();
    throw err;
  });
  let handle;
  try {
    await kernel.boot();
    handle = await serveKernel(kernel, bound);
  } catch (err) {
    await kernel.close();
    await bound.close();
    throw err;
  }
  handleSignals(handle, kernel.logger);
  return undefined;
}

/** The kernel's migrations and those every configured plugin declares; nothing else boots. */
export async function migrateCommand(opts: { config?: string; dataDir?: string }, context: CommandContext = {}): Promise<number> {
  const overrides = opts.dataDir ? { dataDir: opts.dataDir } : undefined;
  const loaded = await loadConfig({ file: opts.config, overrides, plugins: context.plugins, sectionDefaults: context.sectionDefaults });
  await createKernel(loaded).migrate();
  return 0;
}

/** Logs what the config holds that is valid but likely wrong (`serve` goes on). */
function logConfigWarnings(loaded: LoadedConfig, logger: Logger): void {
  for (const w of loaded.warnings) logger.warn({ path: w.path, ...(w.plugin ? { plugin: w.plugin } : {}) }, `config: ${formatProblem(w)}`);
}

const stderrLine = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Loads the plugins, validates the whole file, reads the local files boot would read and calls
 * every plugin's register() as boot would; probes the listen address. Touches no database, no
 * storage, no network. Problems: one line each, exit 1; warnings: one line each on stderr.
 */
export async function configCheckCommand(
  file: string,
  out: (line: string) => void,
  context: CommandContext = {},
  warn: (line: string) => void = stderrLine,
): Promise<number> {
  const loaded = await loadConfig({ file, plugins: context.plugins, sectionDefaults: context.sectionDefaults });
  await createKernel(loaded, { logger: createLogger({ level: 'silent', format: 'json' }) }).check();
  const listen = await probeListen(loaded.config.server.listen);
  if (listen?.severity === 'error') throw configInvalid([listen.problem], loaded.file);
  const warnings = [...loaded.warnings, ...(listen ? [listen.problem] : [])];
  for (const w of warnings) warn(`warning: ${formatProblem(w)}`);
  out('ok');
  return 0;
}

/**
 * Whether `serve` could listen on `listen` now: an address this machine lacks or a privileged
 * port is an error; a port in use only a warning (the registry being checked may be the one
 * listening). Port 0 always works.
 */
async function probeListen(listen: string): Promise<{ severity: 'error' | 'warning'; problem: ConfigProblem } | undefined> {
  if (parseListen(listen).port === 0) return undefined;
  try {
    const bound = await bindServer(listen);
    await bound.close();
    return undefined;
  } catch (err) {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    const message = (err as Error).message.replace(/^server\.listen: /, '');
    if (cause?.code === 'EADDRINUSE') return { severity: 'warning', problem: { path: 'server.listen', message: `${message}; serve fails until it is free` } };
    return { severity: 'error', problem: { path: 'server.listen', message } };
  }
}

export async function configPrintCommand(opts: { config?: string }, out: (text: string) => void, context: CommandContext = {}): Promise<number> {
  const loaded = await loadConfig({ file: opts.config, plugins: context.plugins, sectionDefaults: context.sectionDefaults });
  // Secrets masked; defaults derived at boot (storage.fs.root, token.realm...) shown too.
  out(printEffective(redactConfig(loaded.config, loaded.secrets), loaded.schema, loaded.config));
  return 0;
}
