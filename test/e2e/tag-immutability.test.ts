import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { registryTest } from '../helpers/e2e.js';
import { pushSmallImage } from '../helpers/oci-artifacts.js';
import { describeHttp, registryRequest } from '../helpers/oci-http.js';
import { createEndpoint, createPolicy, listTasks, runPolicy, waitForExecution } from '../helpers/replication.js';
import { describeRun, type RunResult } from '../helpers/run.js';
import { startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir, uniqueRepo } from '../helpers/temp.js';
import { api, prepareE2eProject } from '../helpers/wharf-api.js';
import { MT, OciLayout, type BuiltImage } from '../fixtures/oci-layout.js';

// Tag immutability (issue 13) with real clients and replication, on the wharf binary, where the
// plugin is loaded by default: skopeo and podman cannot push over or delete a protected tag, and
// a pull replication cannot overwrite one; re-pushing the same digest and unprotected tags work.

let east: RegistryHandle | undefined;
let west: RegistryHandle | undefined;
let clients: ClientSandbox | undefined;
let work: string;
let layout: OciLayout;
let one: BuiltImage;
let two: BuiltImage;

const srv = (): RegistryHandle => {
  assert.ok(east, 'Wharf did not start');
  return east;
};
const peer = (): RegistryHandle => {
  assert.ok(west, 'the second Wharf did not start');
  return west;
};
const sandbox = (): ClientSandbox => {
  assert.ok(clients, 'no client sandbox');
  return clients;
};

before(async () => {
  work = await makeTempDir('tag-immutability');
  [east, west] = await Promise.all([startWharf(), startWharf()]);
  await Promise.all([prepareE2eProject(east), prepareE2eProject(west)]);
  await createEndpoint(east, 'west', west.url, west.admin);
  layout = await OciLayout.create(join(work, 'src'));
  one = await layout.addImage({ files: [{ path: 'one.txt', content: 'one\n' }], cmd: ['/one.txt'] }, 'one');
  two = await layout.addImage({ files: [{ path: 'two.txt', content: 'two\n' }], cmd: ['/two.txt'] }, 'two');
  clients = await createClientSandbox();
  await clients.login(east.host, east.admin!);
  const rule = { repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }], tags: [{ kind: 'doublestar', decoration: 'matches', pattern: 'release-*' }] };
  await api(east, 'POST', '/projects/e2e/immutable-tag-rules', rule, { expect: 201 });
});

after(async () => {
  await Promise.all([east?.stop(), west?.stop()]);
  await clients?.cleanup();
  if (work) await removeDir(work);
});

function assertOk(r: RunResult): void {
  assert.equal(r.code, 0, describeRun(r));
}

function assertImmutable(r: RunResult, tag: string): void {
  assert.notEqual(r.code, 0, describeRun(r));
  const printed = r.stderr.replaceAll('\\"', '"');
  assert.ok(printed.includes(`${tag} is immutable`) || printed.includes(`holds the immutable tag`), `the client did not print the reason:\n${describeRun(r)}`);
}

async function digestOf(repo: string, tag: string): Promise<string | null> {
  const res = await registryRequest(srv(), `/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: MT.manifest } });
  assert.equal(res.status, 200, describeHttp(`HEAD ${repo}:${tag}`, res));
  return res.headers.get('docker-content-digest');
}

registryTest('skopeo: a protected tag is pushed once, again with the same digest, never over; nor deleted', srv, async () => {
  const repo = uniqueRepo('immutable-skopeo');
  const target = `docker://${srv().host}/${repo}`;
  assertOk(await sandbox().skopeo(['copy', '--dest-tls-verify=false', layout.ref('one'), `${target}:release-1`]));
  assertOk(await sandbox().skopeo(['copy', '--dest-tls-verify=false', layout.ref('one'), `${target}:release-1`]));
  assertImmutable(await sandbox().skopeo(['copy', '--dest-tls-verify=false', layout.ref('two'), `${target}:release-1`]), `${repo}:release-1`);
  assert.equal(await digestOf(repo, 'release-1'), one.manifest.digest);
  assertImmutable(await sandbox().skopeo(['delete', '--tls-verify=false', `${target}:release-1`]), `${repo}:release-1`);
  assertImmutable(await sandbox().skopeo(['delete', '--tls-verify=false', `${target}@${one.manifest.digest}`]), '');
  // Unprotected tags still move.
  assertOk(await sandbox().skopeo(['copy', '--dest-tls-verify=false', layout.ref('one'), `${target}:latest`]));
  assertOk(await sandbox().skopeo(['copy', '--dest-tls-verify=false', layout.ref('two'), `${target}:latest`]));
  assert.equal(await digestOf(repo, 'latest'), two.manifest.digest);
});

registryTest('podman: pushing another image over a protected tag is refused with the reason', srv, async () => {
  const repo = uniqueRepo('immutable-podman');
  const ref = `${srv().host}/${repo}`;
  assertOk(await sandbox().skopeo(['copy', '--dest-tls-verify=false', layout.ref('one'), `docker://${ref}:release-2`]));
  // podman pushes what it pulled: image two, from an unprotected tag.
  assertOk(await sandbox().skopeo(['copy', '--dest-tls-verify=false', layout.ref('two'), `docker://${ref}:source`]));
  assertOk(await sandbox().podman(['pull', '--tls-verify=false', `${ref}:source`]));
  const local = `${ref}:source`;
  assertImmutable(await sandbox().podman(['push', '--tls-verify=false', '--format', 'oci', local, `docker://${ref}:release-2`]), `${repo}:release-2`);
  assert.equal(await digestOf(repo, 'release-2'), one.manifest.digest);
  assertOk(await sandbox().podman(['push', '--tls-verify=false', '--format', 'oci', local, `docker://${ref}:release-3`]));
});

registryTest('replication: a pull cannot overwrite a protected tag; the other tags arrive', srv, async () => {
  const repo = uniqueRepo('immutable-replicated');
  const mine = await pushSmallImage(srv(), repo, 'release-1', 'east');
  const theirs = await pushSmallImage(peer(), repo, 'release-1', 'west');
  await pushSmallImage(peer(), repo, 'latest', 'west latest');
  assert.notEqual(mine.digest, theirs.digest);
  const policy = await createPolicy(srv(), {
    name: `pull-${repo.slice(4)}`.slice(0, 60), mode: 'pull', endpoint: 'west', trigger: 'manual', flatten: 'none',
    filters: { repositories: [{ kind: 'glob', pattern: repo, decision: 'include' }], tags: [] },
  });
  const execution = await waitForExecution(srv(), await runPolicy(srv(), policy.id));
  assert.equal(execution.status, 'failed', JSON.stringify(execution));
  const tasks = await listTasks(srv(), execution.id);
  const failed = tasks.filter((t) => t.status === 'failed');
  assert.equal(failed.length, 1, JSON.stringify(tasks, null, 2));
  assert.match(failed[0]?.error ?? '', /release-1 is immutable/, JSON.stringify(failed[0]));
  assert.equal(await digestOf(repo, 'release-1'), mine.digest, 'the protected tag did not move');
  assert.ok(await digestOf(repo, 'latest'), 'the unprotected tag replicated');
});
