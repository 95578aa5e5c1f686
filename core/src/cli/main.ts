import { Command } from 'commander';
import { KERNEL_VERSION } from '../version.js';
import { configCheckCommand, configPrintCommand, migrateCommand, serveCommand } from './commands.js';
import { printFailure } from './report.js';

/** `wharf`: serve, migrate, config check, config print. */

function run(action: () => Promise<number | undefined>): Promise<void> {
  return action().then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (err: unknown) => {
      printFailure(err);
      process.exitCode = 1;
    },
  );
}

const stdout = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

export function createProgram(): Command {
  const program = new Command('wharf').description('Wharf container registry').version(KERNEL_VERSION);

  program
    .command('serve')
    .description('boot the kernel and serve the registry (embedded defaults without a config file)')
    .option('-c, --config <file>', 'YAML config file (default: $WHARF_CONFIG)')
    .option('--listen <host:port>', 'address to listen on')
    .option('--data-dir <dir>', 'data directory')
    .action((opts: { config?: string; listen?: string; dataDir?: string }) => run(() => serveCommand(opts)));

  program
    .command('migrate')
    .description('run database migrations and exit')
    .option('-c, --config <file>', 'YAML config file (default: $WHARF_CONFIG)')
    .action((opts: { config?: string }) => run(() => migrateCommand(opts)));

  const config = program.command('config').description('inspect configuration');
  config
    .command('check <file>')
    .description('load the plugins and validate the whole file; prints ok or every problem')
    .action((file: string) => run(() => configCheckCommand(file, stdout)));
  config
    .command('print')
    .description('print the effective config with secrets redacted')
    .option('-c, --config <file>', 'YAML config file (default: $WHARF_CONFIG)')
    .action((opts: { config?: string }) => run(() => configPrintCommand(opts, stdout)));

  return program;
}

await createProgram().parseAsync(process.argv);
