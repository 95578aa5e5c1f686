import { spawn } from 'node:child_process';

/**
 * Runs a command to its end, as CLI tests drive the `wharf` binary: output collected, `input`
 * written to stdin (then closed), and the environment without the runner's `WHARF_*` variables
 * unless `env` brings its own.
 */

/**
 * What {@link runCommand} returns.
 * @since 0.2.0
 */
export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Options of {@link runCommand}.
 * @since 0.2.0
 */
export interface RunCommandOptions {
  readonly cwd?: string | undefined;
  /** Added to the environment (which has no `WHARF_*` variables of the test runner). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Written to stdin, which is then closed. */
  readonly input?: string | undefined;
}

/** @since 0.2.0 */
export function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WHARF_')));
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: options.cwd, env: { ...base, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the command may exit before reading
    child.stdin.end(options.input ?? '');
  });
}
