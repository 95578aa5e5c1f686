import { createServiceRef } from '@wharf/sdk';
import { allPages, CliRefusal, formatTable, stdoutLine, withPluginService, type KernelCommandOptions } from './plugin-service.js';

/**
 * `wharf user add|passwd|list`: manage the db auth plugin's users on the configured database.
 * Passwords come from stdin or a no-echo prompt, never from an argument (arguments land in `ps`
 * and in shell history).
 */

/** The part of the plugin's `auth-db.users` service this CLI calls. */
interface CliUser {
  readonly username: string;
  readonly admin: boolean;
  readonly disabled: boolean;
  readonly createdAt: Date;
}

interface CliUserDirectory {
  create(username: string, password: string, options?: { readonly admin?: boolean }): Promise<CliUser>;
  setPassword(username: string, password: string): Promise<void>;
  get(username: string): Promise<CliUser | undefined>;
  list(options?: { readonly page?: number; readonly pageSize?: number }): Promise<{ readonly items: readonly CliUser[]; readonly total: number }>;
  passwordProblems(password: string): string[];
}

const usersRef = createServiceRef<CliUserDirectory>({ id: 'auth-db.users' });

export type UserCommandOptions = KernelCommandOptions;

export interface PasswordOptions extends UserCommandOptions {
  readonly passwordStdin?: boolean | undefined;
}

/** A refusal of these commands (kept as a name for the tests and readers). */
const UserCommandError = CliRefusal;

function withUsers(opts: UserCommandOptions, fn: (users: CliUserDirectory) => Promise<number>): Promise<number> {
  return withPluginService(
    opts,
    { ref: usersRef, plugin: { kind: 'auth', id: 'db' }, howToConfigure: 'add `auth: [{ db: {} }]` to the config file to manage users', refusalErrorName: 'UserDirectoryError' },
    fn,
  );
}

const MAX_STDIN_BYTES = 64 * 1024;

/** The first line of stdin, without its line ending. Stops reading at the first newline. */
export async function readPasswordLine(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    const nl = buf.indexOf(0x0a);
    chunks.push(nl === -1 ? buf : buf.subarray(0, nl));
    size += buf.length;
    if (nl !== -1) break;
    if (size > MAX_STDIN_BYTES) throw new UserCommandError(undefined, 'the password on stdin is too long');
  }
  const line = Buffer.concat(chunks).toString('utf8').replace(/\r$/, '');
  if (line === '') throw new UserCommandError(undefined, 'no password on stdin (expected one line)');
  return line;
}

/** Reads one line from a TTY in raw mode, echoing nothing. Ctrl-C or Ctrl-D on an empty line aborts. */
export function promptHidden(question: string, input: NodeJS.ReadStream, output: NodeJS.WritableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (err: CliRefusal | undefined) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (data: Buffer | string) => {
      for (const ch of data.toString()) {
        if (ch === '\r' || ch === '\n') return finish(undefined);
        if (ch === '\u0003' || (ch === '\u0004' && typed === '')) return finish(new UserCommandError(undefined, 'aborted'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch >= ' ') typed += ch;
      }
    };
    // Echo off before the prompt shows, so an answer typed at once is never echoed.
    input.setRawMode(true);
    output.write(question);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}

/**
 * The new password: one line of stdin with `--password-stdin`, else typed twice at a terminal
 * (checked against the policy before the second prompt), else a refusal.
 */
async function readNewPassword(opts: PasswordOptions, username: string, users: CliUserDirectory): Promise<string> {
  if (opts.passwordStdin) return readPasswordLine(process.stdin);
  if (!process.stdin.isTTY) {
    throw new UserCommandError(undefined, 'no password: pipe it with --password-stdin, or run in a terminal to be prompted');
  }
  const password = await promptHidden(`New password for ${username}: `, process.stdin, process.stderr);
  const problems = users.passwordProblems(password);
  if (problems.length > 0) throw new UserCommandError('PASSWORD_POLICY', `the password does not meet the policy: ${problems.join('; ')}`);
  const again = await promptHidden('Repeat the password: ', process.stdin, process.stderr);
  if (again !== password) throw new UserCommandError(undefined, 'the passwords do not match');
  return password;
}

export interface UserAddOptions extends PasswordOptions {
  readonly admin?: boolean | undefined;
}

export function userAddCommand(name: string, opts: UserAddOptions): Promise<number> {
  return withUsers(opts, async (users) => {
    // Names are stored lower case; refuse a taken name before asking for a password.
    const existing = await users.get(name.toLowerCase());
    if (existing) throw new UserCommandError('USER_EXISTS', `user "${existing.username}" already exists`);
    const password = await readNewPassword(opts, name.toLowerCase(), users);
    const user = await users.create(name, password, { admin: opts.admin === true });
    stdoutLine(`user ${user.username} created${user.admin ? ' (administrator)' : ''}`);
    return 0;
  });
}

export function userPasswdCommand(name: string, opts: PasswordOptions): Promise<number> {
  return withUsers(opts, async (users) => {
    const user = await users.get(name);
    if (!user) {
      const hint = name !== name.toLowerCase() ? ' (user names are lower case)' : '';
      throw new UserCommandError('USER_UNKNOWN', `no user "${name}"${hint}`);
    }
    const password = await readNewPassword(opts, user.username, users);
    await users.setPassword(user.username, password);
    stdoutLine(`password of ${user.username} changed`);
    return 0;
  });
}

const allUsers = (users: CliUserDirectory): Promise<CliUser[]> => allPages((page, pageSize) => users.list({ page, pageSize }));

export { formatTable };

export function userListCommand(opts: UserCommandOptions & { readonly json?: boolean | undefined }): Promise<number> {
  return withUsers(opts, async (users) => {
    const all = await allUsers(users);
    if (opts.json) {
      const rows = all.map((u) => ({ username: u.username, admin: u.admin, disabled: u.disabled, createdAt: u.createdAt.toISOString() }));
      stdoutLine(JSON.stringify(rows, null, 2));
      return 0;
    }
    const yesNo = (b: boolean) => (b ? 'yes' : 'no');
    stdoutLine(formatTable(['USERNAME', 'ADMIN', 'DISABLED', 'CREATED'], all.map((u) => [u.username, yesNo(u.admin), yesNo(u.disabled), u.createdAt.toISOString()])));
    return 0;
  });
}
