import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, waitForHttp } from '../helpers/net.js';
import { describeRun, run, runOk } from '../helpers/run.js';
import { repoRoot } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';

/**
 * The service guide (docs/guides/running-as-a-service.md) as written:
 * `scripts/guides/install-service.sh --root DIR --user nobody --no-start` lays out the data
 * and config directories with the guide's owners and modes and renders the systemd unit, which
 * `systemd-analyze verify` accepts. Then Wharf runs as that unprivileged user from the unit's
 * command line (there is no systemd in CI): it serves, and everything it wrote in the data
 * directory is the service user's only.
 */

const USER = 'nobody';
let root: string;
let child: ChildProcess | undefined;
let uid: number;

before(async () => {
  root = await makeTempDir('service');
  // The unprivileged user must be able to walk to its directories inside the test root.
  await chmod(root, 0o755);
  uid = Number((await runOk('id', ['-u', USER])).stdout.trim());
});

after(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  if (root) await removeDir(root);
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

test('install-service.sh lays out the directories, secrets and unit', async () => {
  const out = await runOk('bash', [join(repoRoot, 'scripts/guides/install-service.sh'), '--root', root, '--user', USER, '--no-start']);
  assert.match(out.stdout, /installed .*wharf\.service/);
  const data = join(root, 'var/lib/wharf');
  assert.equal(await mode(data), 0o700);
  assert.equal((await stat(data)).uid, uid, 'the data directory belongs to the service user');
  assert.equal(await mode(join(root, 'etc/wharf')), 0o750);
  assert.equal(await mode(join(root, 'etc/wharf/wharf.yaml')), 0o640);
  assert.equal(await mode(join(root, 'etc/wharf/wharf.env')), 0o640);
  assert.match(await readFile(join(root, 'etc/wharf/wharf.env'), 'utf8'), /^WHARF_ADMIN_PASSWORD=\S{12,}$/m);
  const unit = await readFile(join(root, 'etc/systemd/system/wharf.service'), 'utf8');
  assert.doesNotMatch(unit, /@[A-Z]+@/, 'a placeholder was left in the unit');
  assert.match(unit, new RegExp(`^User=${USER}$`, 'm'));
  const verify = await run('systemd-analyze', ['verify', join(root, 'etc/systemd/system/wharf.service')]);
  assert.equal(verify.code, 0, describeRun(verify));
});

test('Wharf runs as the service user with the unit command line, and keeps its files to itself', async () => {
  const unit = await readFile(join(root, 'etc/systemd/system/wharf.service'), 'utf8');
  const execStart = unit.match(/^ExecStart=(.+)$/m)![1]!.split(' ');
  const password = (await readFile(join(root, 'etc/wharf/wharf.env'), 'utf8')).match(/^WHARF_ADMIN_PASSWORD=(\S+)$/m)![1]!;
  const port = await freePort();
  // runuser stands in for systemd's User= and UMask=0077.
  child = spawn('runuser', ['-u', USER, '--', 'sh', '-c', 'umask 077 && exec "$@"', 'wharf', ...execStart, '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, WHARF_ADMIN_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // What the server said before dying, for the failure message (it once exited 1 in CI and
  // passed on rerun; the reason was lost).
  let said = '';
  const keep = (chunk: Buffer) => { said = (said + chunk.toString('utf8')).slice(-4000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code) => { exited = `exit ${code}; it said: ${said.trim() || '(nothing)'}`; });
  await waitForHttp(`http://127.0.0.1:${port}/v2/`, 30_000, () => exited);
  const res = await fetch(`http://127.0.0.1:${port}/v2/`, { headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` } });
  assert.equal(res.status, 200, 'the administrator from wharf.env logs in');
  const data = join(root, 'var/lib/wharf');
  for (const file of ['wharf.db', 'token/signing.pem']) {
    const s = await stat(join(data, file));
    assert.equal(s.uid, uid, `${file} belongs to the service user`);
    assert.equal(s.mode & 0o077, 0, `${file} is readable by others: ${(s.mode & 0o777).toString(8)}`);
  }
});
