import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { describeRun, run, type RunResult } from '../helpers/run.js';
import { repoRoot, startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { OciLayout } from '../fixtures/oci-layout.js';

/**
 * Real clients against `wharf serve` with token auth on and a tiny static-users auth plugin
 * written into a temp dir as a package and named by path (`auth: [{ ./static-auth: ... }]`):
 * docker login (no daemon needed), podman login, skopeo login, and skopeo copy with
 * `--dest-creds` through the Bearer flow. Wrong passwords fail each login (rc 1; podman uses 125
 * for every failure), and the
 * server log holds neither passwords nor tokens.
 */

const PASSWORDS = { alice: 'alice-e2e-pw', bob: 'bob-e2e-pw' };
const WRONG = 'wrong-pw-must-not-be-logged';

const PLUGIN_SOURCE = `import { definePlugin, RegistryError, Type } from '@wharf/sdk';
export default definePlugin({
  id: 'static-auth',
  kind: 'auth',
  version: '0.0.1',
  kernel: '^0.1.0',
  configSchema: Type.Object({
    users: Type.Record(Type.String(), Type.String({ secret: true })),
    readOnly: Type.Array(Type.String(), { default: [] }),
  }),
  register(ctx) {
    const { users, readOnly } = ctx.config;
    ctx.hooks.auth.authenticate.tapPromise('static-auth', async (creds) => {
      if (creds.kind !== 'basic' || !(creds.username in users)) return undefined;
      if (users[creds.username] !== creds.password) throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
      return { subject: creds.username, kind: 'user', provider: 'static-auth', groups: [], admin: false };
    });
    ctx.hooks.rbac.authorize.tapPromise('static-auth', async (principal, access) => {
      if (principal.kind === 'anonymous') return { allow: false };
      return { allow: access.action === 'pull' || !readOnly.includes(principal.subject) };
    });
  },
});
`;

async function writeStaticAuthPackage(dir: string): Promise<void> {
  const pkg = path.join(dir, 'static-auth');
  await mkdir(pkg, { recursive: true });
  await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: 'static-auth', version: '0.0.1', type: 'module', main: './index.js' }));
  await writeFile(path.join(pkg, 'index.js'), PLUGIN_SOURCE);
  // As npm would install it next to the plugin: the real SDK.
  await mkdir(path.join(dir, 'node_modules', '@wharf'), { recursive: true });
  await symlink(path.join(repoRoot, 'sdk', 'api'), path.join(dir, 'node_modules', '@wharf', 'sdk'), 'dir');
}

function assertOk(r: RunResult): RunResult {
  assert.equal(r.code, 0, describeRun(r));
  return r;
}

describe('token auth with real clients', { timeout: 120_000 }, () => {
  let work: string;
  let server: RegistryHandle;
  let clients: ClientSandbox;
  let layout: OciLayout;
  let dockerEnv: NodeJS.ProcessEnv;

  before(async () => {
    work = await makeTempDir('token-clients');
    await writeStaticAuthPackage(work);
    const configFile = path.join(work, 'wharf.yaml');
    const config = {
      log: { level: 'info', format: 'json' },
      token: { enabled: true, service: 'wharf-e2e' },
      auth: [{ './static-auth': { users: PASSWORDS, readOnly: ['bob'] } }],
    };
    await writeFile(configFile, JSON.stringify(config, null, 2));
    // WHARF_CONFIG instead of --config: the relative plugin key resolves from this file's directory.
    server = await startWharf({ env: { WHARF_CONFIG: configFile } });
    clients = await createClientSandbox();
    ({ layout } = await singleImageLayout(path.join(work, 'layout')));
    dockerEnv = { ...process.env, DOCKER_CONFIG: path.join(work, 'docker') };
  });

  after(async () => {
    await server?.stop();
    await clients?.cleanup();
    if (work) await removeDir(work);
  });

  const docker = (args: string[], input?: string) => run('docker', args, { env: dockerEnv, timeoutMs: 30_000, ...(input ? { input } : {}) });

  it('docker login succeeds through the token flow and fails with rc 1 on a wrong password', async () => {
    const ok = assertOk(await docker(['login', '-u', 'alice', '--password-stdin', server.host], `${PASSWORDS.alice}\n`));
    assert.match(ok.stdout, /Login Succeeded/);
    const saved = JSON.parse(await readFile(path.join(work, 'docker', 'config.json'), 'utf8')) as { auths: Record<string, unknown> };
    assert.ok(saved.auths[server.host] ?? saved.auths[`http://${server.host}`], JSON.stringify(saved));
    const bad = await docker(['login', '-u', 'alice', '--password-stdin', server.host], `${WRONG}\n`);
    assert.equal(bad.code, 1, describeRun(bad));
  });

  it('podman login and skopeo login succeed, and fail on a wrong password', async () => {
    assertOk(await clients.podman(['login', '--tls-verify=false', '-u', 'alice', '--password-stdin', server.host], { input: `${PASSWORDS.alice}\n` }));
    const podmanBad = await clients.podman(['login', '--tls-verify=false', '-u', 'alice', '--password-stdin', server.host], { input: `${WRONG}\n` });
    // podman exits 125 for every failed command (its own errors), with the registry's verdict.
    assert.equal(podmanBad.code, 125, describeRun(podmanBad));
    assert.match(podmanBad.stderr, /invalid username\/password/);
    assertOk(await clients.skopeo(['login', '--tls-verify=false', '-u', 'bob', '--password-stdin', server.host], { input: `${PASSWORDS.bob}\n` }));
    const skopeoBad = await clients.skopeo(['login', '--tls-verify=false', '-u', 'bob', '--password-stdin', server.host], { input: `${WRONG}\n` });
    assert.equal(skopeoBad.code, 1, describeRun(skopeoBad));
    assert.match(skopeoBad.stderr, /invalid username\/password/);
  });

  it('skopeo copy --dest-creds pushes through the Bearer flow; a read-only user can pull but not push', async () => {
    const dest = `docker://${server.host}/team/app:v1`;
    assertOk(await clients.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `alice:${PASSWORDS.alice}`, layout.ref('v1'), dest]));
    const inspect = assertOk(await clients.skopeo(['inspect', '--tls-verify=false', '--creds', `bob:${PASSWORDS.bob}`, dest]));
    assert.equal((JSON.parse(inspect.stdout) as { Labels: Record<string, string> }).Labels['org.example.fixture'], 'single');
    const denied = await clients.skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', `bob:${PASSWORDS.bob}`, layout.ref('v1'), `docker://${server.host}/team/bob:v1`]);
    assert.notEqual(denied.code, 0, describeRun(denied));
    const anonymous = await clients.skopeo(['inspect', '--tls-verify=false', '--no-creds', dest]);
    assert.notEqual(anonymous.code, 0, describeRun(anonymous));
  });

  it('logs every failed login without the password, and never a token', async () => {
    const log = await readFile(server.logFile, 'utf8');
    const failures = log.split('\n').filter((l) => l.includes('"login failed"'));
    assert.ok(failures.length >= 3, `failed logins logged:\n${failures.join('\n')}`);
    assert.ok(failures.every((l) => l.includes('"user":"alice"') || l.includes('"user":"bob"')), failures.join('\n'));
    assert.ok(!log.includes(WRONG), 'a wrong password reached the log');
    for (const pw of Object.values(PASSWORDS)) assert.ok(!log.includes(pw), 'a password reached the log');
    assert.ok(!/eyJ[\w-]{10,}\.eyJ[\w-]{10,}/.test(log), 'a JWT reached the log');
  });
});
