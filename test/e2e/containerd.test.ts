import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { startContainerd, type Containerd } from '../helpers/containerd.js';
import { registryTest } from '../helpers/e2e.js';
import { asAdmin, request } from '../helpers/oci-http.js';
import { describeRun, type RunResult } from '../helpers/run.js';
import { startWharf, type Credentials, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { api } from '../helpers/wharf-api.js';
import { multiPlatformLayout, singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, Descriptor } from '../fixtures/oci-layout.js';

/**
 * containerd, the client of Kubernetes nodes, against `wharf serve` on the secure defaults
 * (token auth, projects): `ctr images pull/push --plain-http [--user]` anonymously from the
 * public `library` project, as a developer of a private project (pull and push), a
 * multi-platform index with `--all-platforms` (pulled whole and pushed back under another tag:
 * same index digest) and a project robot. containerd runs as its own daemon in a temp dir.
 */

const PRIVATE = 'team';
const DEVELOPER: Credentials = { username: 'devon', password: 'Devon-E2e-Passw0rd' };

let server: RegistryHandle | undefined;
let containerd: Containerd | undefined;
let sandbox: ClientSandbox | undefined;
let work: string;
let single: BuiltImage;
let index: Descriptor;
let children: BuiltImage[];
let robot: Credentials;
const srv = (): RegistryHandle => {
  assert.ok(server, 'Wharf did not start');
  return server;
};
const ctrd = (): Containerd => {
  assert.ok(containerd, 'containerd did not start');
  return containerd;
};
const ref = (repo: string, tag: string) => `${srv().host}/${repo}:${tag}`;
const user = (who: Credentials) => ['--user', `${who.username}:${who.password}`];

before(async () => {
  work = await makeTempDir('containerd-images');
  [server, containerd] = await Promise.all([startWharf(), startContainerd()]);
  await api(srv(), 'POST', '/users', DEVELOPER, { expect: 201 });
  await api(srv(), 'POST', '/projects', { name: PRIVATE, public: false }, { expect: 201 });
  await api(srv(), 'POST', `/projects/${PRIVATE}/members`, { roleName: 'developer', memberUser: { username: DEVELOPER.username } }, { expect: 201 });
  const created = await api(srv(), 'POST', `/projects/${PRIVATE}/robots`, {
    name: 'node',
    duration: 1,
    permissions: [{ kind: 'project', namespace: PRIVATE, access: [{ resource: 'repository', action: 'pull' }, { resource: 'repository', action: 'push' }] }],
  }, { expect: 201 });
  const { robot: info, secret } = created.json as { robot: { name: string }; secret: string };
  robot = { username: info.name, password: secret };
  // The administrator pushes the fixtures with skopeo.
  const one = await singleImageLayout(join(work, 'single'));
  single = one.image;
  const multi = await multiPlatformLayout(join(work, 'multi'));
  ({ index, children } = multi);
  sandbox = await createClientSandbox();
  await sandbox.login(srv().host, srv().admin!);
  for (const [layout, tag, dest] of [[one.layout, 'v1', 'library/hello:v1'], [one.layout, 'v1', `${PRIVATE}/app:v1`], [multi.layout, 'multi', `${PRIVATE}/multi:v1`]] as const) {
    await sandbox.skopeoOk(['copy', '--all', '--dest-tls-verify=false', layout.ref(tag), `docker://${srv().host}/${dest}`]);
  }
});

after(async () => {
  await containerd?.stop();
  await server?.stop();
  await sandbox?.cleanup();
  if (work) await removeDir(work);
});

function assertOk(r: RunResult): RunResult {
  assert.equal(r.code, 0, describeRun(r));
  return r;
}

/** The digest containerd recorded for an image it holds (`ctr images ls`). */
async function localDigest(name: string): Promise<string | undefined> {
  const out = assertOk(await ctrd().ctr(['images', 'ls'])).stdout;
  const row = out.split('\n').find((l) => l.startsWith(`${name} `));
  return row?.match(/sha256:[0-9a-f]{64}/)?.[0];
}

/** The manifest digest the registry serves for a reference, read as the administrator. */
async function registryDigest(repo: string, tag: string): Promise<string | null> {
  const res = await request(`${srv().url}/v2/${repo}/manifests/${tag}`, asAdmin(srv(), {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' },
  }));
  assert.equal(res.status, 200, `HEAD ${repo}:${tag}: ${res.status}`);
  return res.headers.get('docker-content-digest');
}

registryTest('anonymous pull of a public project, unpacked', srv, async () => {
  assertOk(await ctrd().ctr(['images', 'pull', '--plain-http', ref('library/hello', 'v1')]));
  assert.equal(await localDigest(ref('library/hello', 'v1')), single.manifest.digest);
  const check = assertOk(await ctrd().ctr(['images', 'check']));
  assert.match(check.stdout, new RegExp(`${ref('library/hello', 'v1').replace(/[.:/]/g, '\\$&')}\\s.*complete`), describeRun(check));
});

registryTest('a private project: refused anonymously, pulled and pushed by a developer', srv, async () => {
  const anonymous = await ctrd().ctr(['images', 'pull', '--plain-http', ref(`${PRIVATE}/app`, 'v1')]);
  assert.notEqual(anonymous.code, 0, describeRun(anonymous));
  // containerd resolves with a HEAD and prints only the challenge's `error`, not its description.
  assert.match(anonymous.stderr, /pull access denied.*insufficient_scope/, describeRun(anonymous));
  assertOk(await ctrd().ctr(['images', 'pull', '--plain-http', ...user(DEVELOPER), ref(`${PRIVATE}/app`, 'v1')]));
  assert.equal(await localDigest(ref(`${PRIVATE}/app`, 'v1')), single.manifest.digest);
  assertOk(await ctrd().ctr(['images', 'tag', ref(`${PRIVATE}/app`, 'v1'), ref(`${PRIVATE}/pushed`, 'by-ctr')]));
  assertOk(await ctrd().ctr(['images', 'push', '--plain-http', ...user(DEVELOPER), ref(`${PRIVATE}/pushed`, 'by-ctr')]));
  assert.equal(await registryDigest(`${PRIVATE}/pushed`, 'by-ctr'), single.manifest.digest);
});

registryTest('a multi-platform index with --all-platforms: pulled whole, pushed back with the same digest', srv, async () => {
  assertOk(await ctrd().ctr(['images', 'pull', '--plain-http', '--all-platforms', ...user(DEVELOPER), ref(`${PRIVATE}/multi`, 'v1')]));
  assert.equal(await localDigest(ref(`${PRIVATE}/multi`, 'v1')), index.digest);
  const content = assertOk(await ctrd().ctr(['content', 'ls', '-q'])).stdout;
  for (const child of children) assert.ok(content.includes(child.manifest.digest), `the ${child.manifest.digest} manifest was not fetched`);
  assertOk(await ctrd().ctr(['images', 'tag', ref(`${PRIVATE}/multi`, 'v1'), ref(`${PRIVATE}/multi`, 'copy')]));
  assertOk(await ctrd().ctr(['images', 'push', '--plain-http', ...user(DEVELOPER), ref(`${PRIVATE}/multi`, 'copy')]));
  assert.equal(await registryDigest(`${PRIVATE}/multi`, 'copy'), index.digest);
  for (const child of children) assert.equal(await registryDigest(`${PRIVATE}/multi`, child.manifest.digest), child.manifest.digest);
});

registryTest('a project robot pulls and pushes; a wrong secret is refused', srv, async () => {
  await ctrd().ctr(['images', 'rm', ref(`${PRIVATE}/app`, 'v1')]);
  assertOk(await ctrd().ctr(['images', 'pull', '--plain-http', ...user(robot), ref(`${PRIVATE}/app`, 'v1')]));
  assertOk(await ctrd().ctr(['images', 'tag', ref(`${PRIVATE}/app`, 'v1'), ref(`${PRIVATE}/app`, 'by-robot')]));
  assertOk(await ctrd().ctr(['images', 'push', '--plain-http', ...user(robot), ref(`${PRIVATE}/app`, 'by-robot')]));
  assert.equal(await registryDigest(`${PRIVATE}/app`, 'by-robot'), single.manifest.digest);
  const wrong = await ctrd().ctr(['images', 'pull', '--plain-http', '--user', `${robot.username}:not-the-secret`, ref(`${PRIVATE}/multi`, 'v1')]);
  assert.notEqual(wrong.code, 0, describeRun(wrong));
});
