import type { Command } from 'commander';
import { isCliRefusal, KernelError, type CliCommand, type CliCommandGroup, type PluginKind, type ServiceRef, type WharfPlugin } from '@wharf/sdk';
import { deepMerge, loadConfig } from '../config/load-config.js';
import { PLUGIN_SECTIONS } from '../config/schema.js';
import type { LoadedConfig } from '../config/types.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';
import { assertRegistryExists } from './existing-registry.js';

/**
 * Commands contributed through the SDK's CLI capability (`cli: [...]` in a plugin definition,
 * and the kernel's own groups such as `replication`): mounted under `wharf <group>`, each run
 * boots the kernel from the configured file without listening and without job workers, hands
 * the command its services and always closes. Core knows no plugin: the binary passes the
 * plugins whose commands it offers.
 */

/** Who contributes a group: a plugin (which must be configured to run it) or the kernel. */
export interface CommandSource {
  readonly plugin?: { readonly id: string; readonly kind: PluginKind } | undefined;
  readonly groups: readonly CliCommandGroup[];
}

export interface KernelCommandOptions {
  readonly config?: string | undefined;
  readonly dataDir?: string | undefined;
  /** Plugins the binary ships, loaded from here when the config names them. */
  readonly plugins?: readonly WharfPlugin[] | undefined;
  /** The binary's defaults for whole sections (its extensions), as `serve` uses them. */
  readonly sectionDefaults?: Record<string, unknown> | undefined;
}

const stderrLine = (line: string): void => void process.stderr.write(`${line}\n`);
const stdoutLine = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * The output functions of a contributed command. On a terminal `progress` rewrites one line in
 * place (`\r` + erase line) and any other output first ends it; elsewhere it is a plain line.
 */
export function progressOutput(terminal: boolean, write: { out: (s: string) => void; err: (s: string) => void } = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
}) {
  let open = false;
  const end = () => {
    if (open) write.err('\n');
    open = false;
  };
  return {
    terminal,
    stdout: (line: string) => { end(); write.out(`${line}\n`); },
    stderr: (line: string) => { end(); write.err(`${line}\n`); },
    progress: (line: string) => {
      if (!terminal) return write.err(`${line}\n`);
      write.err(`\r\x1b[2K${line}`);
      open = true;
    },
    end,
  };
}

/**
 * Boots the kernel from the configured file without listening and without job workers (the
 * serving nodes run jobs) on an existing registry (never a new one), hands it to `fn`, prints a refusal as one line (exit 1), always closes.
 */
export async function withKernel(opts: KernelCommandOptions, fn: (kernel: Kernel) => Promise<number>, checkConfig?: (loaded: LoadedConfig) => void): Promise<number> {
  const overrides: Record<string, unknown> = {};
  if (opts.dataDir) overrides.dataDir = opts.dataDir;
  // Quiet by default so the output is the command's; WHARF_LOG__LEVEL still wins for debugging.
  if (!Object.keys(process.env).some((k) => k.toUpperCase() === 'WHARF_LOG__LEVEL')) overrides.log = { level: 'warn' };
  const loaded = await loadConfig({ file: opts.config, overrides: deepMerge({}, overrides), plugins: opts.plugins, sectionDefaults: opts.sectionDefaults });
  // Before booting, so a command that cannot work says so without the boot's log lines.
  checkConfig?.(loaded);
  // Only serve and migrate create a registry: anything else refuses a missing or empty database.
  await assertRegistryExists(loaded.config.database);
  // Logs go to stderr: stdout carries only the result (`--json` output stays parseable).
  const kernel = createKernel(loaded, { logDestination: process.stderr, runJobs: false });
  try {
    await kernel.boot();
    return await fn(kernel);
  } catch (err) {
    if (!isCliRefusal(err)) throw err;
    stderrLine(err.code ? `error ${err.code}: ${err.message}` : `error: ${err.message}`);
    return 1;
  } finally {
    await kernel.close();
  }
}

/** `auth: [{ db: {} }]` or `rbac: { projects: {} }`: where a plugin goes in the file. */
function configHint(plugin: { readonly id: string; readonly kind: PluginKind }): string {
  const [section, spec] = Object.entries(PLUGIN_SECTIONS).find(([, s]) => s.kind === plugin.kind) ?? [plugin.kind, { shape: 'map' }];
  return spec.shape === 'list' ? `${section}: [{ ${plugin.id}: {} }]` : `${section}: { ${plugin.id}: {} }`;
}

function notConfigured(plugin: { readonly id: string; readonly kind: PluginKind }): KernelError {
  return new KernelError('REG_ERR_SERVICE_MISSING', `the ${plugin.id} ${plugin.kind} plugin is not configured: add \`${configHint(plugin)}\` to the config file`, {
    plugin: plugin.id,
  });
}

export function runContributed(
  source: CommandSource,
  command: CliCommand,
  args: readonly string[],
  opts: Record<string, unknown>,
  binary: Pick<KernelCommandOptions, 'plugins' | 'sectionDefaults'> = {},
): Promise<number> {
  const { plugin } = source;
  const { config, dataDir, ...options } = opts as { config?: string; dataDir?: string } & Record<string, string | boolean | undefined>;
  return withKernel(
    { config, dataDir, ...binary },
    async (kernel) => {
      const deps: Record<string, unknown> = {};
      for (const [key, ref] of Object.entries(command.deps) as [string, ServiceRef<unknown>][]) {
        if (kernel.services.providerOf(ref) === undefined) throw plugin ? notConfigured(plugin) : new KernelError('REG_ERR_SERVICE_MISSING', `no plugin provides ${ref.id} (as "${key}")`);
        deps[key] = kernel.resolve(ref);
      }
      const output = progressOutput(process.stderr.isTTY === true);
      try {
        return await command.run(deps as never, { args, options, ...output });
      } finally {
        output.end();
      }
    },
    (loaded) => {
      if (plugin && !loaded.plugins.some((p) => p.plugin.kind === plugin.kind && p.plugin.id === plugin.id)) throw notConfigured(plugin);
    },
  );
}

/**
 * Mounts every contributed group under `program`. A group name the kernel or an earlier source
 * already uses is refused (REG_ERR_CLI_COMMAND, naming the plugin).
 */
export function addContributedCommands(
  program: Command,
  sources: readonly CommandSource[],
  run: (action: () => Promise<number>) => Promise<void>,
  binary: Pick<KernelCommandOptions, 'plugins' | 'sectionDefaults'> = {},
): void {
  const taken = new Set(program.commands.map((c) => c.name()));
  for (const source of sources) {
    for (const group of source.groups) {
      const who = source.plugin ? `plugin "${source.plugin.id}"` : 'the kernel';
      if (taken.has(group.name)) {
        throw new KernelError('REG_ERR_CLI_COMMAND', `${who} adds the command "wharf ${group.name}", which is taken`, source.plugin ? { plugin: source.plugin.id } : {});
      }
      taken.add(group.name);
      const parent = program.command(group.name).description(group.description);
      for (const command of group.commands) {
        const sub = parent
          .command(command.usage)
          .description(command.description)
          .option('-c, --config <file>', 'YAML config file (default: $WHARF_CONFIG)')
          .option('--data-dir <dir>', 'data directory');
        for (const o of command.options ?? []) sub.option(o.flags, o.description, o.default);
        sub.action((...received: unknown[]) => {
          // commander passes the positional arguments, then the options, then the command.
          const opts = received[received.length - 2] as Record<string, unknown>;
          const args = received.slice(0, -2).filter((a) => a !== undefined).map((a) => String(a));
          return run(() => runContributed(source, command, args, opts, binary));
        });
      }
    }
  }
}
