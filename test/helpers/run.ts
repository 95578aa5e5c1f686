import { spawn } from 'node:child_process';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the process (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
  input?: string;
}

export interface RunResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

const MAX_CAPTURE = 256 * 1024;

/** Runs a command to completion, capturing its output; never rejects for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const command = [cmd, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      // Without input, stdin is /dev/null: a pipe nobody writes to only invites EPIPE.
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < MAX_CAPTURE) stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < MAX_CAPTURE) stderr += d; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs ?? 120_000);
    child.on('error', (err) => { clearTimeout(timer); reject(new Error(`cannot run ${command}: ${err.message}`)); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ command, code, signal, stdout, stderr, timedOut, durationMs: Date.now() - started });
    });
    if (child.stdin) {
      // A command may exit before reading its input; that shows in its exit code, not as EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

/** A multi-line description of a run, for assertion messages. */
export function describeRun(r: RunResult): string {
  const status = r.timedOut ? 'TIMED OUT' : r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
  return [
    `$ ${r.command}`,
    `(${status}, ${r.durationMs} ms)`,
    r.stdout.trim() ? `--- stdout ---\n${tail(r.stdout)}` : '--- stdout: empty',
    r.stderr.trim() ? `--- stderr ---\n${tail(r.stderr)}` : '--- stderr: empty',
  ].join('\n');
}

/** Like run(), but throws (with the full output) unless the command exits 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0 || r.timedOut) throw new Error(`command failed\n${describeRun(r)}`);
  return r;
}

function tail(s: string, max = 8000): string {
  const t = s.trimEnd();
  return t.length > max ? `...${t.slice(-max)}` : t;
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** Parses a command's stdout as JSON, failing with the command's output if it is not. */
export function stdoutJson<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`stdout is not JSON (${msg})\n${describeRun(r)}`);
  }
}
