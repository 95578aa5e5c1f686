import { KernelError, type ServiceRef } from '@wharf/sdk';
import { deepMerge, loadConfig } from '../config/load-config.js';
import type { LoadedConfig } from '../config/types.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';

/**
 * What the `user`, `project` and `robot` commands share: boot the kernel from the configured
 * file (without listening), hand one plugin's service to the command, always close. Core never
 * imports plugins: the service is found by its ref id, and the plugin's errors by their shape.
 */

/** A refusal the operator can fix: printed as one line on stderr, exit 1. */
export class CliRefusal extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'CliRefusal';
  }
}

export interface KernelCommandOptions {
  readonly config?: string | undefined;
  readonly dataDir?: string | undefined;
}

export interface PluginServiceSpec<T> {
  readonly ref: ServiceRef<T>;
  /** The plugin that provides it, for the "not configured" message. */
  readonly plugin: { readonly kind: string; readonly id: string };
  /** How to configure that plugin, e.g. "add `auth: [{ db: {} }]` to the config file". */
  readonly howToConfigure: string;
  /** `name` of the plugin's error class whose `code` makes a refusal (not a crash). */
  readonly refusalErrorName: string;
}

export const stderrLine = (line: string): void => void process.stderr.write(`${line}\n`);
export const stdoutLine = (line: string): void => void process.stdout.write(`${line}\n`);

function refusalOf(err: unknown, errorName: string): CliRefusal | undefined {
  if (err instanceof CliRefusal) return err;
  if (err instanceof Error && err.name === errorName && typeof (err as { code?: unknown }).code === 'string') {
    return new CliRefusal((err as Error & { code: string }).code, err.message);
  }
  return undefined;
}

/**
 * Boots the kernel from the configured file without listening and without job workers (the
 * serving nodes run jobs), hands it to `fn`, prints a refusal as one line (exit 1), always closes.
 */
export async function withKernel(
  opts: KernelCommandOptions,
  fn: (kernel: Kernel) => Promise<number>,
  options: { refusalErrorName?: string; checkConfig?: (loaded: LoadedConfig) => void } = {},
): Promise<number> {
  const overrides: Record<string, unknown> = {};
  if (opts.dataDir) overrides.dataDir = opts.dataDir;
  // Quiet by default so the output is the command's; WHARF_LOG__LEVEL still wins for debugging.
  if (!Object.keys(process.env).some((k) => k.toUpperCase() === 'WHARF_LOG__LEVEL')) overrides.log = { level: 'warn' };
  const loaded = await loadConfig({ file: opts.config, overrides: deepMerge({}, overrides) });
  // Before booting, so a command that cannot work says so without the boot's log lines.
  options.checkConfig?.(loaded);
  // Logs go to stderr: stdout carries only the result (`--json` output stays parseable).
  const kernel = createKernel(loaded, { logDestination: process.stderr, runJobs: false });
  try {
    await kernel.boot();
    return await fn(kernel);
  } catch (err) {
    const refusal = refusalOf(err, options.refusalErrorName ?? 'CliRefusal');
    if (!refusal) throw err;
    stderrLine(refusal.code ? `error ${refusal.code}: ${refusal.message}` : `error: ${refusal.message}`);
    return 1;
  } finally {
    await kernel.close();
  }
}

export function withPluginService<T>(opts: KernelCommandOptions, spec: PluginServiceSpec<T>, fn: (service: T) => Promise<number>): Promise<number> {
  const notConfigured = () =>
    new KernelError('REG_ERR_SERVICE_MISSING', `the ${spec.plugin.id} ${spec.plugin.kind} plugin is not configured: ${spec.howToConfigure}`);
  return withKernel(
    opts,
    async (kernel) => {
      if (kernel.services.providerOf(spec.ref) === undefined) throw notConfigured();
      return fn(kernel.resolve(spec.ref));
    },
    {
      refusalErrorName: spec.refusalErrorName,
      checkConfig: (loaded) => {
        if (!loaded.plugins.some((p) => p.plugin.kind === spec.plugin.kind && p.plugin.id === spec.plugin.id)) throw notConfigured();
      },
    },
  );
}

/** Left-aligned columns, two spaces apart. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Every item of a paged list, page by page. */
export async function allPages<T>(list: (page: number, pageSize: number) => Promise<{ readonly items: readonly T[]; readonly total: number }>): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const { items, total } = await list(page, 100);
    out.push(...items);
    if (items.length === 0 || out.length >= total) return out;
  }
}
