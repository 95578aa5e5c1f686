import { Command, Option } from 'commander';
import { PLUGIN_KINDS, type PluginKind, type WharfPlugin } from '@wharf/sdk';
import { KERNEL_VERSION } from '../version.js';
import { configCheckCommand, configPrintCommand, migrateCommand, serveCommand } from './commands.js';
import { addContributedCommands, type CommandSource } from './contributed-commands.js';
import { pluginVerifyCommand } from './plugin-commands.js';
import { printFailure } from './report.js';

/**
 * `wharf`: serve, migrate, config check, config print, plugin verify|new, and the commands of
 * the plugins the binary ships (`user`, `project`, `robot`, `replication` from the default set).
 */

/** `wharf plugin new`, from `@wharf/create-plugin`: the kernel ships no templates. */
export type PluginNewCommand = (kind: string, name: string, opts: { dir?: string; kernelVersion: string }, out: (text: string) => void) => Promise<number>;

export interface CliOptions {
  /** Adds `wharf plugin new` (the distribution passes `@wharf/create-plugin`'s command). */
  readonly pluginNew?: PluginNewCommand | undefined;
  /**
   * The distribution's plugin set: their `cli` groups become commands, and a config key naming
   * one of them loads it from here.
   */
  readonly plugins?: readonly WharfPlugin[] | undefined;
  /**
   * Whole config sections the distribution turns on when the file leaves them out (`serve`,
   * `migrate`, `config check|print`).
   */
  readonly sectionDefaults?: Record<string, unknown> | undefined;
}

function run(action: () => Promise<number | undefined>, options: { exitOnFailure?: boolean } = {}): Promise<void> {
  // A refusal or failure is printed once, as one line; the exit code tells scripts.
  return action().then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (err: unknown) => {
      printFailure(err);
      process.exitCode = 1;
      // A failed boot exits now: a half-open pool or timer must not keep the process up.
      if (options.exitOnFailure) process.exit(1);
    },
  );
}

const stdout = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

export function createProgram(options: CliOptions = {}): Command {
  const program = new Command('wharf').description('Wharf container registry').version(KERNEL_VERSION);

  program
    .command('serve')
    .description('boot the kernel and serve the registry (embedded defaults without a config file)')
    .option('-c, --config <file>', 'YAML config file (default: $WHARF_CONFIG)')
    .option('--listen <host:port>', 'address to listen on')
    .option('--data-dir <dir>', 'data directory')
    .action((opts: { config?: string; listen?: string; dataDir?: string }) => run(() => serveCommand(opts, options), { exitOnFailure: true }));

  program
    .command('migrate')
    .description("run the kernel's and the configured plugins' database migrations and exit")
    .option('-c, --config <file>', 'YAML config file (default: $WHARF_CONFIG)')
    .option('--data-dir <dir>', 'data directory')
    .action((opts: { config?: string; dataDir?: string }) => run(() => migrateCommand(opts, options)));

  const config = program.command('config').description('inspect configuration');
  config
    .command('check <file>')
    .description('load the plugins and validate the whole file; prints ok or every problem')
    .action((file: string) => run(() => configCheckCommand(file, stdout, options)));
  config
    .command('print')
    .description('print the effective config with secrets redacted')
    .option('-c, --config <file>', 'YAML config file (default: $WHARF_CONFIG)')
    .action((opts: { config?: string }) => run(() => configPrintCommand(opts, stdout, options)));

  const plugin = program.command('plugin').description('check and scaffold plugins');
  plugin
    .command('verify <name>')
    .description('load a plugin as the kernel would (id, package name or path), check it, validate a config section, run register()')
    .addOption(new Option('--kind <kind>', 'the section it belongs to').choices(PLUGIN_KINDS).makeOptionMandatory())
    .option('-c, --config <file>', "YAML file holding the plugin's own section (default: {})")
    .option('--json', 'print the result as JSON')
    .action((name: string, opts: { kind: PluginKind; config?: string; json?: boolean }) => run(() => pluginVerifyCommand(name, opts, stdout)));
  const pluginNew = options.pluginNew;
  if (pluginNew) {
    plugin
      .command('new <kind> <name>')
      .description(`scaffold a plugin package wharf-plugin-<kind>-<name> (kinds: ${PLUGIN_KINDS.join(', ')}) that builds and passes its tests`)
      .option('--dir <dir>', 'target directory, which must not exist or be empty (default: ./wharf-plugin-<kind>-<name>)')
      .action((kind: string, name: string, opts: { dir?: string }) => run(() => pluginNew(kind, name, { ...opts, kernelVersion: KERNEL_VERSION }, stdout)));
  }

  const sources: CommandSource[] = (options.plugins ?? []).map((p) => ({ plugin: { id: p.id, kind: p.kind }, groups: p.cli ?? [] }));
  addContributedCommands(program, sources, run, { plugins: options.plugins, sectionDefaults: options.sectionDefaults });
  return program;
}

/** Runs the CLI on `argv` (`process.argv`); exit codes go to `process.exitCode`. */
export async function runCli(argv: readonly string[], options: CliOptions = {}): Promise<void> {
  let program: Command;
  try {
    program = createProgram(options);
  } catch (err) {
    printFailure(err);
    process.exitCode = 1;
    return;
  }
  await program.parseAsync([...argv]);
}
