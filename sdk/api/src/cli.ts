import type { ResolvedDeps, ServiceDeps } from './services.js';

/**
 * Commands a plugin adds to the `wharf` CLI: `wharf <group> <command> [args] [options]`.
 *
 * A plugin lists its command groups in its definition (`cli: [...]`), not in `register`: the
 * `wharf` binary must know its commands before it reads a config file (`-c` is an option of the
 * command itself) and `wharf --help` works without one. When a command runs, the CLI loads the
 * config (`-c <file>` or `$WHARF_CONFIG`, `--data-dir` applied), refuses unless the plugin is
 * configured, boots the kernel without listening and without job workers, resolves the
 * command's `deps` and calls `run`. Logs go to stderr, so stdout carries only the result.
 *
 * @see docs/architecture/04-plugins.md
 * @since 0.1.0
 */

/**
 * One option of a command, in commander's flag syntax: `--admin`, `--project <project>`,
 * `--days <days>`. Its value reaches `run` under the camel-cased long name (`passwordStdin`).
 * @since 0.1.0
 */
export interface CliOption {
  readonly flags: string;
  readonly description: string;
  /** The value when the option is not given. */
  readonly default?: string | boolean;
}

/**
 * What `run` gets besides its services: the positional arguments in `usage` order, the option
 * values, and the two output streams.
 * @since 0.1.0
 */
export interface CliCall {
  readonly args: readonly string[];
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  /** Writes one line (a newline is added) to stdout: the command's result. */
  stdout(line: string): void;
  /** Writes one line to stderr: prompts, progress, warnings. */
  stderr(line: string): void;
  /**
   * Shows progress on stderr: on a terminal one line that each call rewrites in place (ended
   * before the next `stdout`/`stderr` line); elsewhere each call is a plain line, so pace the
   * calls when {@link CliCall.terminal} is false (logs and CI keep every line).
   * @since 0.2.0
   */
  progress?(line: string): void;
  /** True when stderr is a terminal (progress updates in place). @since 0.2.0 */
  readonly terminal?: boolean;
}

/**
 * One command of a group.
 * @since 0.1.0
 */
export interface CliCommand<D extends ServiceDeps = ServiceDeps> {
  /** The command and its positional arguments: `add <name>`, `list`. */
  readonly usage: string;
  readonly description: string;
  readonly options?: readonly CliOption[];
  /** The services `run` needs, provided by the kernel or a plugin. */
  readonly deps: D;
  /**
   * Does the work and returns the exit code. Throw a {@link CliRefusal} for something the
   * operator can fix: it is printed as one line (`error <code>: <message>`), exit 1.
   */
  run(deps: ResolvedDeps<D>, call: CliCall): Promise<number>;
}

/**
 * A top-level command (`wharf user`) and its commands.
 * @since 0.1.0
 */
export interface CliCommandGroup {
  /** The word after `wharf`; must not clash with the kernel's commands or another plugin's. */
  readonly name: string;
  readonly description: string;
  readonly commands: readonly CliCommand[];
}

/**
 * Declares one command with its dependencies typed (`run` receives exactly `deps`, resolved).
 * @since 0.1.0
 */
export function defineCliCommand<D extends ServiceDeps>(command: CliCommand<D>): CliCommand {
  if (!command || typeof command.usage !== 'string' || typeof command.run !== 'function') {
    throw new TypeError('defineCliCommand needs a usage and a run function');
  }
  return Object.freeze({ ...command }) as unknown as CliCommand;
}

/**
 * A refusal the operator can fix (unknown user, weak password, policy not found): the CLI
 * prints `error <code>: <message>` (or `error: <message>`) on stderr and exits 1, no stack.
 * @since 0.1.0
 */
export class CliRefusal extends Error {
  readonly code: string | undefined;

  constructor(code: string | undefined, message: string) {
    super(message);
    this.name = 'CliRefusal';
    this.code = code;
  }
}

/**
 * True for a {@link CliRefusal}, also one from another copy of the SDK.
 * @since 0.1.0
 */
export function isCliRefusal(err: unknown): err is CliRefusal {
  return err instanceof CliRefusal || (err instanceof Error && err.name === 'CliRefusal');
}

/**
 * Left-aligned columns two spaces apart, header first: how `wharf` commands print lists.
 * @since 0.1.0
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
