import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { registryTest } from '../helpers/e2e.js';
import { describeRun, run, type RunResult } from '../helpers/run.js';
import { startWharf, type Credentials, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { api } from '../helpers/wharf-api.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { OciLayout } from '../fixtures/oci-layout.js';

/**
 * Real clients print why the registry refused them (issue 16, item 6), with token auth on and
 * `rbac: projects`: skopeo and podman pushing as a guest (`your role in "demo" is guest: it may
 * pull, not push`), to a missing project, and to a one-segment name; `docker manifest inspect`
 * (the docker CLI's own registry client: no engine runs here) pulling as a non-member, which
 * reads exactly like a missing project. The server log holds each reason.
 */

const GUEST: Credentials = { username: 'gina', password: 'Gina-E2e-Passw0rd' };
const OUTSIDER: Credentials = { username: 'sam', password: 'Sam-E2e-Passw0rd' };
const GUEST_PUSH = 'your role in "demo" is guest: it may pull, not push';
const notVisible = (project: string) => `project "${project}" does not exist or you are not a member of it`;

let server: RegistryHandle | undefined;
let work: string;
let layout: OciLayout;
const sandboxes: ClientSandbox[] = [];
const srv = (): RegistryHandle => {
  assert.ok(server, 'Wharf did not start');
  return server;
};

before(async () => {
  work = await makeTempDir('denial-reasons');
  server = await startWharf({ config: { log: { level: 'info', format: 'json' }, auth: [{ db: {} }], rbac: { projects: {} } } });
  for (const who of [GUEST, OUTSIDER]) await api(srv(), 'POST', '/users', who, { expect: 201 });
  await api(srv(), 'POST', '/projects', { name: 'demo', public: false }, { expect: 201 });
  await api(srv(), 'POST', '/projects/demo/members', { roleName: 'guest', memberUser: { username: GUEST.username } }, { expect: 201 });
  ({ layout } = await singleImageLayout(join(work, 'src')));
  const admin = await sandbox(srv().admin!);
  assertOk(await admin.skopeo(['copy', '--dest-tls-verify=false', layout.ref('v1'), `docker://${srv().host}/demo/app:v1`]));
});

after(async () => {
  await server?.stop();
  await Promise.all(sandboxes.map((s) => s.cleanup()));
  if (work) await removeDir(work);
});

async function sandbox(who: Credentials): Promise<ClientSandbox> {
  const s = await createClientSandbox();
  sandboxes.push(s);
  await s.login(srv().host, who);
  return s;
}

function assertOk(r: RunResult): RunResult {
  assert.equal(r.code, 0, describeRun(r));
  return r;
}

function assertRefused(r: RunResult, reason: string): void {
  assert.notEqual(r.code, 0, describeRun(r));
  // skopeo logs through logrus, which quotes the message (`\"demo\"`); a HEAD request's reason
  // comes in the challenge's error_description, where RFC 6750 allows no `"` (Wharf sends `'`).
  const printed = r.stderr.replaceAll('\\"', '"').replaceAll("'", '"');
  assert.ok(printed.includes(reason), `the client did not print "${reason}":\n${describeRun(r)}`);
}

registryTest('skopeo prints the reason: a guest pushing, a non-member pushing to a missing project', srv, async () => {
  const guest = await sandbox(GUEST);
  assertRefused(await guest.skopeo(['copy', '--dest-tls-verify=false', layout.ref('v1'), `docker://${srv().host}/demo/app:by-guest`]), GUEST_PUSH);
  const outsider = await sandbox(OUTSIDER);
  assertRefused(await outsider.skopeo(['copy', '--dest-tls-verify=false', layout.ref('v1'), `docker://${srv().host}/nosuch/app:v1`]), notVisible('nosuch'));
});

registryTest('podman prints the reason: a guest pushing, the administrator pushing a one-segment name', srv, async () => {
  const guest = await sandbox(GUEST);
  assertOk(await guest.podman(['pull', '--tls-verify=false', `${srv().host}/demo/app:v1`]));
  assertRefused(await guest.podman(['push', '--tls-verify=false', `${srv().host}/demo/app:v1`, `docker://${srv().host}/demo/app:by-podman`]), GUEST_PUSH);
  const admin = await sandbox(srv().admin!);
  assertOk(await admin.podman(['pull', '--tls-verify=false', `${srv().host}/demo/app:v1`]));
  assertRefused(await admin.podman(['push', '--tls-verify=false', `${srv().host}/demo/app:v1`, `docker://${srv().host}/alpine:1`]), 'name it <project>/<name>');
});

registryTest('docker prints the reason, and a private project reads like a missing one to a non-member', srv, async () => {
  const config = await mkdtemp(join(work, 'docker-'));
  const env = { ...process.env, DOCKER_CONFIG: config };
  const docker = (args: string[], input?: string) => run('docker', args, { env, timeoutMs: 30_000, ...(input === undefined ? {} : { input }) });
  assertOk(await docker(['login', '-u', OUTSIDER.username, '--password-stdin', srv().host], `${OUTSIDER.password}\n`));
  const privateOne = await docker(['manifest', 'inspect', '--insecure', `${srv().host}/demo/app:v1`]);
  assertRefused(privateOne, notVisible('demo'));
  const missing = await docker(['manifest', 'inspect', '--insecure', `${srv().host}/nosuch/app:v1`]);
  assertRefused(missing, notVisible('nosuch'));
  assert.equal(privateOne.stderr.replaceAll('demo', 'X'), missing.stderr.replaceAll('nosuch', 'X'));
});

registryTest('the server log holds every reason', srv, async () => {
  const { readFile } = await import('node:fs/promises');
  const reasons = (await readFile(srv().logFile, 'utf8'))
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; reason?: string })
    .filter((l) => l.msg === 'access denied' || l.msg === 'access not granted')
    .map((l) => l.reason);
  for (const reason of [GUEST_PUSH, notVisible('nosuch'), notVisible('demo')]) assert.ok(reasons.includes(reason), `not logged: ${reason}\n${reasons.join('\n')}`);
  assert.ok(reasons.some((r) => r?.includes('name it <project>/<name>')));
});
