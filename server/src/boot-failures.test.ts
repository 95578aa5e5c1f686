import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand, type CommandRun } from '@wharf/sdk-testing';
import { tempDir, WHARF_BIN } from './test-support.js';

/**
 * Every boot failure of `wharf serve`: one `error REG_ERR_...` line on stderr, exit 1 at once,
 * and nothing written first that the failure makes pointless (no data directory, database,
 * keys or administrator). `wharf config check` finds the same problems without booting.
 */

/** Generous for a loaded CI machine; a failure used to wait for a 60 s pool timeout. */
const AT_ONCE_MS = 20_000;

let dir: string;
let cleanup: () => Promise<void>;

async function wharf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandRun & { ms: number }> {
  const t0 = Date.now();
  const run = await runCommand(process.execPath, [WHARF_BIN, ...args], { cwd: dir, env });
  return { ...run, ms: Date.now() - t0 };
}

async function config(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

/** One error line with `code` matching `message`, exit 1, in time, and `dataDir` never created. */
function assertFailedAtOnce(run: CommandRun & { ms: number }, code: string, message: RegExp, dataDir: string): void {
  assert.equal(run.code, 1, run.stderr);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${run.stderr}`);
  assert.ok(lines[0]?.startsWith(`error ${code}: `), lines[0]);
  assert.match(lines[0] ?? '', message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(run.ms < AT_ONCE_MS, `exited after ${run.ms} ms`);
  assert.equal(existsSync(dataDir), false, `${dataDir} was created`);
}

describe('boot failures', () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('wharf-boot-failures-'));
  });
  after(() => cleanup());

  it('a WHARF_ADMIN_PASSWORD the policy refuses stops serve before any table or file exists', async () => {
    const data = path.join(dir, 'weak-admin');
    const run = await wharf(['serve', '--listen', '127.0.0.1:0', '--data-dir', data], { WHARF_ADMIN_PASSWORD: 'abc' });
    assertFailedAtOnce(run, 'REG_ERR_PLUGIN_REGISTER', /WHARF_ADMIN_PASSWORD does not meet the password policy \(must have at least 8 characters; /, data);
    // config check runs every plugin's register() too: it says the same, touching nothing.
    const cfg = await config('weak-admin.yaml', `dataDir: ${data}\n`);
    const check = await wharf(['config', 'check', cfg], { WHARF_ADMIN_PASSWORD: 'abc' });
    assert.equal(check.code, 1);
    assert.match(check.stderr, /^error REG_ERR_PLUGIN_REGISTER: .*WHARF_ADMIN_PASSWORD does not meet the password policy/);
    assert.equal(existsSync(data), false);
  });

  it('a listen address in use fails before migrations and the admin bootstrap; config check warns', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const data = path.join(dir, 'port-taken');
      const run = await wharf(['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', data]);
      assertFailedAtOnce(run, 'REG_ERR_LISTEN', new RegExp(`^error REG_ERR_LISTEN: server\\.listen: cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`), data);
      // The registry being checked may be the one listening: a warning, not a failure.
      const cfg = await config('port-taken.yaml', `dataDir: ${data}\nserver:\n  listen: 127.0.0.1:${port}\n`);
      const check = await wharf(['config', 'check', cfg]);
      assert.equal(check.code, 0, check.stderr);
      assert.equal(check.stdout, 'ok\n');
      assert.equal(check.stderr, `warning: server.listen: cannot listen on 127.0.0.1:${port}: the address is in use (another process listens there); serve fails until it is free\n`);
      assert.equal(existsSync(data), false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('a malformed secretKey is a config problem: config check reports it, serve stops before writing', async () => {
    const data = path.join(dir, 'bad-secret-key');
    const cfg = await config('bad-secret-key.yaml', `dataDir: ${data}\nsecretKey: abc\n`);
    const check = await wharf(['config', 'check', cfg]);
    assert.equal(check.code, 1);
    assert.equal(check.stdout, '');
    assert.equal(check.stderr, 'error REG_ERR_CONFIG_INVALID: secretKey: must be base64 of 32 random bytes (it is not base64); generate one with `openssl rand -base64 32`\n');
    const short = await config('short-secret-key.yaml', `dataDir: ${data}\nsecretKey: ${Buffer.alloc(16, 7).toString('base64')}\n`);
    assert.match((await wharf(['config', 'check', short])).stderr, /secretKey: must be base64 of 32 random bytes \(it holds 16\)/);
    const run = await wharf(['serve', '--config', cfg, '--listen', '127.0.0.1:0']);
    assertFailedAtOnce(run, 'REG_ERR_CONFIG_INVALID', /secretKey: must be base64 of 32 random bytes/, data);
    assert.ok(!run.stderr.includes('abc'), 'the key is not printed');
  });

  it('unreadable or unusable token key files are config problems, found by config check', async () => {
    const data = path.join(dir, 'bad-keys');
    await writeFile(path.join(dir, 'not-a-key.pem'), 'hello\n');
    const cfg = await config('bad-keys.yaml', `dataDir: ${data}\ntoken:\n  keys:\n    signingKeyFile: missing.pem\n    verificationKeyFiles: [not-a-key.pem]\n`);
    const check = await wharf(['config', 'check', cfg]);
    assert.equal(check.code, 1);
    assert.deepEqual(check.stderr.trimEnd().split('\n'), [
      `error REG_ERR_CONFIG_INVALID: token.keys.signingKeyFile: cannot read ${path.join(dir, 'missing.pem')}: no such file`,
      `error REG_ERR_CONFIG_INVALID: token.keys.verificationKeyFiles[0]: ${path.join(dir, 'not-a-key.pem')}: holds no PEM block`,
    ]);
    const run = await wharf(['serve', '--config', cfg, '--listen', '127.0.0.1:0']);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, check.stderr);
    assert.equal(existsSync(data), false);
  });
});
