import type { DestinationStream, Logger } from 'pino';
import type { WharfPlugin } from '@wharf/sdk';
import { deepMerge, loadConfig } from '../config/load-config.js';
import { serveKernel } from '../http/server.js';
import { createKernel, type Kernel } from './kernel.js';

/**
 * Loads the config, boots a kernel and listens: the one call tests and embedders need.
 * `listen: '127.0.0.1:0'` picks a free port; `url` (and the derived public URL) use the real one.
 */

export interface StartServerOptions {
  /** A config object, or the path of a YAML file. Default: `WHARF_CONFIG` or embedded defaults. */
  readonly config?: Record<string, unknown> | string | undefined;
  /** Applied over file and environment. */
  readonly overrides?: Record<string, unknown> | undefined;
  /** Shortcut for `server.listen`. */
  readonly listen?: string | undefined;
  /** Shortcut for `dataDir`. */
  readonly dataDir?: string | undefined;
  /** Environment for `WHARF_*` overrides; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Plugins given in code instead of packages (matched by kind and id). */
  readonly plugins?: readonly WharfPlugin[] | undefined;
  readonly cwd?: string | undefined;
  readonly logger?: Logger | undefined;
  readonly logDestination?: DestinationStream | NodeJS.WritableStream | undefined;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly kernel: Kernel;
  /** Graceful stop: drain, `lifecycle.close`, dispose. Idempotent. */
  close(): Promise<void>;
}

export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const shortcuts: Record<string, unknown> = {};
  if (options.listen !== undefined) shortcuts.server = { listen: options.listen };
  if (options.dataDir !== undefined) shortcuts.dataDir = options.dataDir;
  const loaded = await loadConfig({
    ...(typeof options.config === 'string' ? { file: options.config } : {}),
    ...(typeof options.config === 'object' ? { config: options.config } : {}),
    env: options.env,
    overrides: deepMerge(options.overrides ?? {}, shortcuts),
    plugins: options.plugins,
    cwd: options.cwd,
  });
  const kernel = createKernel(loaded, { logger: options.logger, logDestination: options.logDestination });
  await kernel.boot();
  try {
    const handle = await serveKernel(kernel);
    return { url: handle.url, port: handle.port, kernel, close: handle.close };
  } catch (err) {
    await kernel.close();
    throw err;
  }
}
