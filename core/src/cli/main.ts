import { Command, Option } from 'commander';
import { PLUGIN_KINDS, type PluginKind } from '@wharf/sdk';
import { KERNEL_VERSION } from '../version.js';
import { configCheckCommand, configPrintCommand, migrateCommand, serveCommand } from './commands.js';
import { pluginVerifyCommand } from './plugin-commands.js';
import { pluginNewCommand } from './plugin-scaffold.js';
import { printFailure } from './report.js';
import { projectCreateCommand, projectListCommand, robotCreateCommand, robotDeleteCommand, robotListCommand } from './project-commands.js';
import { replicationExecutionsCommand, replicationRunCommand, replicationTasksCommand } from './replication-commands.js';
import { userAddCommand, userListCommand, userPasswdCommand } from './user-commands.js';

/**
 * `wharf`: serve, migrate, config check, config print, user add|passwd|list, project create|list,
 * robot create|list|delete, plugin verify|new.
 */

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

  // No password option on purpose: arguments show up in `ps` and in shell history.
  const user = program.command('user').description('manage the users of the db auth plugin (auth: [{ db: {} }])');
  const common = (cmd: Command) =>
    cmd.option('-c, --config <file>', 'YAML config file (default: $WHARF_CONFIG)').option('--data-dir <dir>', 'data directory');
  common(user.command('add <name>').description('create a user; the password is read from stdin or prompted for'))
    .option('--admin', 'make the user an administrator')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action((name: string, opts: { config?: string; dataDir?: string; admin?: boolean; passwordStdin?: boolean }) => run(() => userAddCommand(name, opts)));
  common(user.command('passwd <name>').description("change a user's password; read from stdin or prompted for"))
    .option('--password-stdin', 'read the password from the first line of stdin')
    .action((name: string, opts: { config?: string; dataDir?: string; passwordStdin?: boolean }) => run(() => userPasswdCommand(name, opts)));
  common(user.command('list').description('list the users: name, admin, disabled, created'))
    .option('--json', 'print JSON instead of a table')
    .action((opts: { config?: string; dataDir?: string; json?: boolean }) => run(() => userListCommand(opts)));

  const project = program.command('project').description('manage projects of the projects RBAC plugin (rbac: { projects: {} })');
  common(project.command('create <name>').description('create a project (private unless --public)'))
    .option('--public', 'anyone, anonymous included, may pull')
    .action((name: string, opts: { config?: string; dataDir?: string; public?: boolean }) => run(() => projectCreateCommand(name, opts)));
  common(project.command('list').description('list the projects: name, public, owner, created'))
    .option('--json', 'print JSON instead of a table')
    .action((opts: { config?: string; dataDir?: string; json?: boolean }) => run(() => projectListCommand(opts)));

  const robot = program.command('robot').description('manage robot accounts of the projects RBAC plugin');
  common(robot.command('create <name>').description('create a robot; its secret is printed once'))
    .option('--project <project>', 'a project robot of this project (robot$<project>+<name>)')
    .option('--projects <list>', 'a system robot over these projects (comma-separated, or * for all)')
    .option('--access <actions>', 'repository actions: pull, push, delete (comma-separated; push implies pull)', 'pull')
    .option('--days <days>', 'lifetime in days, -1 for never (default: rbac.projects.robotDefaultDays)')
    .option('--description <text>', 'what the robot is for')
    .option('--json', 'print {name, secret, expiresAt} as JSON')
    .action((name: string, opts: Record<string, string | boolean | undefined>) => run(() => robotCreateCommand(name, opts as never)));
  common(robot.command('list').description('list robots: system robots, or those of --project'))
    .option('--project <project>', 'the robots of this project')
    .option('--json', 'print JSON instead of a table')
    .action((opts: { config?: string; dataDir?: string; project?: string; json?: boolean }) => run(() => robotListCommand(opts)));
  common(robot.command('delete <name>').description('delete a robot by its full name'))
    .action((name: string, opts: { config?: string; dataDir?: string }) => run(() => robotDeleteCommand(name, opts)));

  const replication = program.command('replication').description('run replication policies and read their history (the registry nodes do the copying)');
  common(replication.command('run <policy>').description('start an execution of a policy (name or id)'))
    .option('--wait', 'wait until it finishes; exit 1 unless it succeeded')
    .option('--timeout <seconds>', 'how long --wait waits at most (default 3600)')
    .option('--json', 'print the execution as JSON')
    .action((policy: string, opts: { config?: string; dataDir?: string; wait?: boolean; timeout?: string; json?: boolean }) => run(() => replicationRunCommand(policy, opts)));
  common(replication.command('executions').description('list executions, newest first: id, policy, trigger, status, tasks done, bytes'))
    .option('--policy <policy>', 'only the executions of this policy (name or id)')
    .option('--json', 'print JSON instead of a table')
    .action((opts: { config?: string; dataDir?: string; policy?: string; json?: boolean }) => run(() => replicationExecutionsCommand(opts)));
  common(replication.command('tasks <execution>').description('list the tasks of an execution: source, destination, status, attempts, error'))
    .option('--json', 'print JSON instead of a table')
    .action((execution: string, opts: { config?: string; dataDir?: string; json?: boolean }) => run(() => replicationTasksCommand(execution, opts)));

  const plugin = program.command('plugin').description('check and scaffold plugins');
  plugin
    .command('verify <name>')
    .description('load a plugin as the kernel would (id, package name or path), check it, validate a config section, run register()')
    .addOption(new Option('--kind <kind>', 'the section it belongs to').choices(PLUGIN_KINDS).makeOptionMandatory())
    .option('-c, --config <file>', "YAML file holding the plugin's own section (default: {})")
    .option('--json', 'print the result as JSON')
    .action((name: string, opts: { kind: PluginKind; config?: string; json?: boolean }) => run(() => pluginVerifyCommand(name, opts, stdout)));
  plugin
    .command('new <kind> <name>')
    .description(`scaffold a plugin package wharf-plugin-<kind>-<name> (kinds: ${PLUGIN_KINDS.join(', ')}) that builds and passes its tests`)
    .option('--dir <dir>', 'target directory, which must not exist or be empty (default: ./wharf-plugin-<kind>-<name>)')
    .action((kind: string, name: string, opts: { dir?: string }) => run(() => pluginNewCommand(kind, name, opts, stdout)));

  return program;
}

await createProgram().parseAsync(process.argv);
