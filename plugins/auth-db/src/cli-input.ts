import { CliRefusal } from '@wharf/sdk';

/**
 * How `wharf user add|passwd` read a password: one line of stdin, or a no-echo prompt on a
 * terminal. Never an argument: arguments land in `ps` and in shell history.
 */

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
    if (size > MAX_STDIN_BYTES) throw new CliRefusal(undefined, 'the password on stdin is too long');
  }
  const line = Buffer.concat(chunks).toString('utf8').replace(/\r$/, '');
  if (line === '') throw new CliRefusal(undefined, 'no password on stdin (expected one line)');
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
        if (ch === '\u0003' || (ch === '\u0004' && typed === '')) return finish(new CliRefusal(undefined, 'aborted'));
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
export async function readNewPassword(fromStdin: boolean, username: string, problemsOf: (password: string) => string[]): Promise<string> {
  if (fromStdin) return readPasswordLine(process.stdin);
  if (!process.stdin.isTTY) {
    throw new CliRefusal(undefined, 'no password: pipe it with --password-stdin, or run in a terminal to be prompted');
  }
  const password = await promptHidden(`New password for ${username}: `, process.stdin, process.stderr);
  const problems = problemsOf(password);
  if (problems.length > 0) throw new CliRefusal('PASSWORD_POLICY', `the password does not meet the policy: ${problems.join('; ')}`);
  const again = await promptHidden('Repeat the password: ', process.stdin, process.stderr);
  if (again !== password) throw new CliRefusal(undefined, 'the passwords do not match');
  return password;
}
