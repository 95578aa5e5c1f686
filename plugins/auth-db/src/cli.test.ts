import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand, startTestRegistry } from '@wharf/sdk-testing';
import { captureLogs, tempDir, WHARF_BIN } from './test-support.js';

/** `wharf user add|passwd|list`: the built binary as a child process, on a real SQLite file. */

const BIN = WHARF_BIN;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WHARF_')));
}

/** Runs `wharf` with `input` written to its stdin (then closed). */
const wharf = (args: string[], input = ''): Promise<Run> => runCommand(process.execPath, [BIN, ...args], { cwd: dir, input });

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `wharf` on a pseudo-terminal (util-linux `script`), typing each answer once its prompt
 * appears. Returns everything the terminal showed: typed text would be there if echoed.
 */
function wharfTty(args: string[], answers: readonly (readonly [prompt: string, answer: string])[]): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: dir, env: cleanEnv() });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    let screen = '';
    let next = 0;
    const onData = (c: Buffer) => {
      screen += c.toString();
      const step = answers[next];
      // Count prompts seen so far, so the same prompt text twice is answered twice.
      if (step && screen.split(step[0]).length - 1 > answers.slice(0, next).filter(([p]) => p === step[0]).length) {
        next++;
        child.stdin.write(`${step[1]}\r`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

/** Status of `GET /v2/` with Basic credentials. */
function getV2(url: string, user: string, password: string): Promise<number> {
  const auth = Buffer.from(`${user}:${password}`).toString('base64');
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/v2/`, { agent: false, headers: { authorization: `Basic ${auth}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

const PASSWORD_1 = 'Harbour-Pass-1';
const PASSWORD_2 = 'Second-Pass-22';

let dir: string;
let cleanup: () => Promise<void>;
let config: string;

const noLeak = (run: Run, ...secrets: string[]) => {
  for (const s of secrets) {
    assert.ok(!run.stdout.includes(s), 'password in stdout');
    assert.ok(!run.stderr.includes(s), 'password in stderr');
  }
};

describe('wharf user', () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('wharf-user-cli-'));
    config = path.join(dir, 'wharf.yaml');
    await writeFile(config, `dataDir: ${dir}/data\nstorage:\n  fs:\n    fsync: false\nauth:\n  - db: {}\n`);
    // The user commands work on an existing registry only (`wharf migrate` or `serve` create one).
    const migrated = await wharf(['migrate', '--config', config]);
    assert.equal(migrated.code, 0, migrated.stderr);
  });
  after(() => cleanup());

  it('add reads the password from stdin and creates the user (name lowercased)', async () => {
    const run = await wharf(['user', 'add', 'Alice', '--config', config, '--password-stdin'], `${PASSWORD_1}\n`);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'user alice created\n');
    noLeak(run, PASSWORD_1);
  });

  it('add --admin creates an administrator; a taken name is refused', async () => {
    const run = await wharf(['user', 'add', 'root2', '--admin', '--config', config, '--password-stdin'], `${PASSWORD_1}\r\n`);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'user root2 created (administrator)\n');
    const again = await wharf(['user', 'add', 'ALICE', '--config', config, '--password-stdin'], `${PASSWORD_1}\n`);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error USER_EXISTS: user "alice" already exists$/m);
    noLeak(again, PASSWORD_1);
  });

  it('list prints a table with the bootstrapped admin and the new users', async () => {
    const run = await wharf(['user', 'list', '--config', config]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^USERNAME\s+ADMIN\s+DISABLED\s+CREATED$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3)),
      [
        ['admin', 'yes', 'no'],
        ['alice', 'no', 'no'],
        ['root2', 'yes', 'no'],
      ],
    );
    assert.ok(lines.slice(1).every((l) => /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(l)), run.stdout);
  });

  it('list --json prints only JSON on stdout', async () => {
    const run = await wharf(['user', 'list', '--json', '--config', config]);
    assert.equal(run.code, 0, run.stderr);
    const users = JSON.parse(run.stdout) as { username: string; admin: boolean; disabled: boolean; createdAt: string }[];
    assert.deepEqual(users.map((u) => [u.username, u.admin, u.disabled]), [
      ['admin', true, false],
      ['alice', false, false],
      ['root2', true, false],
    ]);
    assert.ok(users.every((u) => !Number.isNaN(Date.parse(u.createdAt))));
  });

  it('passwd changes the password: the new one logs in, the old one gets 401', async () => {
    const run = await wharf(['user', 'passwd', 'alice', '--config', config, '--password-stdin'], `${PASSWORD_2}\nignored second line\n`);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'password of alice changed\n');
    noLeak(run, PASSWORD_2);
    const logs = captureLogs();
    // The same data the commands wrote, served as the plugin's tests serve it.
    const server = await startTestRegistry({ dataDir: `${dir}/data`, config: { auth: [{ db: {} }], log: { level: 'info', format: 'json' } }, logDestination: logs.stream });
    try {
      assert.equal(await getV2(server.url, 'alice', PASSWORD_2), 200);
      assert.equal(await getV2(server.url, 'alice', PASSWORD_1), 401);
      assert.equal(await getV2(server.url, 'root2', PASSWORD_1), 200);
    } finally {
      await server.close();
    }
  });

  it('a weak password is refused with the policy message and exit 1', async () => {
    const weak = 'weakling';
    const add = await wharf(['user', 'add', 'bob', '--config', config, '--password-stdin'], `${weak}\n`);
    assert.equal(add.code, 1);
    assert.match(add.stderr, /^error PASSWORD_POLICY: the password does not meet the policy: .*upper case.*digit/m);
    noLeak(add, weak);
    const passwd = await wharf(['user', 'passwd', 'alice', '--config', config, '--password-stdin'], 'Short1\n');
    assert.equal(passwd.code, 1);
    assert.match(passwd.stderr, /^error PASSWORD_POLICY: .*at least 8 characters/m);
    noLeak(passwd, 'Short1');
    const list = await wharf(['user', 'list', '--json', '--config', config]);
    assert.ok(!(JSON.parse(list.stdout) as { username: string }[]).some((u) => u.username === 'bob'));
  });

  it('refuses a missing password: empty stdin, no --password-stdin without a terminal, an argument', async () => {
    const empty = await wharf(['user', 'add', 'carol', '--config', config, '--password-stdin'], '');
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /^error: no password on stdin/m);
    const noTty = await wharf(['user', 'passwd', 'alice', '--config', config], `${PASSWORD_1}\n`);
    assert.equal(noTty.code, 1);
    assert.match(noTty.stderr, /^error: no password: pipe it with --password-stdin, or run in a terminal/m);
    const asArgument = await wharf(['user', 'add', 'carol', PASSWORD_1, '--config', config]);
    assert.equal(asArgument.code, 1);
    assert.match(asArgument.stderr, /too many arguments/);
  });

  it('prompts twice on a terminal without echoing the password', async () => {
    const ok = await wharfTty(['user', 'add', 'carol', '--config', config], [
      ['New password for carol: ', PASSWORD_1],
      ['Repeat the password: ', PASSWORD_1],
    ]);
    assert.equal(ok.code, 0, ok.screen);
    assert.match(ok.screen, /user carol created/);
    assert.ok(!ok.screen.includes(PASSWORD_1), ok.screen);
    const mismatch = await wharfTty(['user', 'passwd', 'carol', '--config', config], [
      ['New password for carol: ', PASSWORD_2],
      ['Repeat the password: ', `${PASSWORD_2}x`],
    ]);
    assert.equal(mismatch.code, 1, mismatch.screen);
    assert.match(mismatch.screen, /error: the passwords do not match/);
    assert.ok(!mismatch.screen.includes(PASSWORD_2), mismatch.screen);
    // A weak first entry is refused at once, without asking to repeat it.
    const weak = await wharfTty(['user', 'passwd', 'carol', '--config', config], [['New password for carol: ', 'weakling']]);
    assert.equal(weak.code, 1, weak.screen);
    assert.match(weak.screen, /error PASSWORD_POLICY: the password does not meet the policy/);
    assert.ok(!weak.screen.includes('Repeat'), weak.screen);
    assert.ok(!weak.screen.includes('weakling'), weak.screen);
  });

  it('passwd of an unknown user exits 1 without asking for a password', async () => {
    const run = await wharf(['user', 'passwd', 'Nobody', '--config', config]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error USER_UNKNOWN: no user "Nobody" \(user names are lower case\)$/m);
  });

  it('exits 1 with a clear message when the db auth plugin is not configured, and works on the defaults', async () => {
    const plain = path.join(dir, 'no-auth.yaml');
    // An open registry: no auth plugin at all.
    await writeFile(plain, `dataDir: ${dir}/plain\nstorage:\n  fs: {}\nauth: []\nrbac: {}\n`);
    for (const args of [['list'], ['add', 'dave', '--password-stdin'], ['passwd', 'dave', '--password-stdin']]) {
      const run = await wharf(['user', ...args, '--config', plain], `${PASSWORD_1}\n`);
      assert.equal(run.code, 1, args.join(' '));
      assert.equal(run.stdout, '');
      assert.match(run.stderr.trim(), /^error REG_ERR_SERVICE_MISSING: the db auth plugin is not configured/);
      noLeak(run, PASSWORD_1);
    }
    // Without a config file the embedded defaults include the db plugin: once `wharf migrate`
    // created the registry in the --data-dir given, the administrator is bootstrapped and listed.
    assert.equal((await wharf(['migrate', '--data-dir', path.join(dir, 'defaults')])).code, 0);
    const defaults = await wharf(['user', 'list', '--data-dir', path.join(dir, 'defaults')]);
    assert.equal(defaults.code, 0, defaults.stderr);
    assert.match(defaults.stdout, /^admin\s+yes\s+no\s/m);
  });

  it('--data-dir selects the database', async () => {
    const other = path.join(dir, 'other-data');
    assert.equal((await wharf(['migrate', '--config', config, '--data-dir', other])).code, 0);
    const add = await wharf(['user', 'add', 'erin', '--config', config, '--data-dir', other, '--password-stdin'], `${PASSWORD_1}\n`);
    assert.equal(add.code, 0, add.stderr);
    const there = await wharf(['user', 'list', '--json', '--config', config, '--data-dir', other]);
    assert.deepEqual((JSON.parse(there.stdout) as { username: string }[]).map((u) => u.username), ['admin', 'erin']);
    const here = await wharf(['user', 'list', '--json', '--config', config]);
    assert.ok(!(JSON.parse(here.stdout) as { username: string }[]).some((u) => u.username === 'erin'));
  });
});
