import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { registryTest } from '../helpers/e2e.js';
import { pushReferrer, pushSmallImage } from '../helpers/oci-artifacts.js';
import { describeHttp, registryRequest } from '../helpers/oci-http.js';
import { createEndpoint, createPolicy, listExecutions, runPolicy, waitForExecution, waitForExecutions } from '../helpers/replication.js';
import { startWharf, type RegistryHandle } from '../helpers/server.js';
import { uniqueRepo } from '../helpers/temp.js';
import { prepareE2eProject } from '../helpers/wharf-api.js';
import { MT } from '../fixtures/oci-layout.js';

// Wharf to Wharf, token auth on both sides (secure defaults): an image with a referrer that
// names it as `subject`, and two event-based policies pointing at each other that must not
// ping-pong.

let east: RegistryHandle | undefined;
let west: RegistryHandle | undefined;

before(async () => {
  [east, west] = await Promise.all([startWharf(), startWharf()]);
  await Promise.all([prepareE2eProject(east), prepareE2eProject(west)]);
  // Each knows the other, logging in as the other's administrator (through the token flow).
  await createEndpoint(east, 'west', west.url, west.admin);
  await createEndpoint(west, 'east', east.url, east.admin);
});

after(async () => {
  await Promise.all([east?.stop(), west?.stop()]);
});

const srv = (): RegistryHandle => {
  assert.ok(east && west, 'registries not started');
  return east;
};
const other = (): RegistryHandle => {
  assert.ok(west, 'registries not started');
  return west;
};

registryTest('an image and its referrer replicate through the token flow, subject link intact', srv, async () => {
  const repo = uniqueRepo('w2w');
  const image = await pushSmallImage(srv(), repo, 'v1');
  const sbom = await pushReferrer(srv(), repo, image, 'application/vnd.example.sbom.v1+json', '{"packages":[]}');
  const policy = await createPolicy(srv(), {
    name: 'east-to-west', mode: 'push', endpoint: 'west', trigger: 'manual', flatten: 'none',
    filters: { repositories: [{ kind: 'glob', pattern: repo, decision: 'include' }], tags: [] },
  });
  const execution = await waitForExecution(srv(), await runPolicy(srv(), policy.id));
  assert.equal(execution.status, 'succeeded', JSON.stringify(execution));

  const copied = await registryRequest(other(), `/v2/${repo}/manifests/v1`, { headers: { accept: MT.manifest } });
  assert.equal(copied.status, 200, describeHttp('GET copied manifest', copied));
  assert.equal(copied.headers.get('docker-content-digest'), image.digest);
  const referrers = await registryRequest(other(), `/v2/${repo}/referrers/${image.digest}`);
  assert.equal(referrers.status, 200, describeHttp('GET referrers on the copy', referrers));
  const listed = (JSON.parse(referrers.text) as { manifests: { digest: string; artifactType?: string }[] }).manifests;
  assert.deepEqual(listed.map((m) => [m.digest, m.artifactType]), [[sbom.digest, 'application/vnd.example.sbom.v1+json']]);
});

registryTest('two registries replicating to each other on push settle after one round', srv, async () => {
  const prefix = uniqueRepo('loop');
  const filters = { repositories: [{ kind: 'glob', pattern: `${prefix}*`, decision: 'include' }], tags: [] };
  const eastPolicy = await createPolicy(srv(), { name: 'loop-east', mode: 'push', endpoint: 'west', trigger: 'event', flatten: 'none', filters });
  const westPolicy = await createPolicy(other(), { name: 'loop-west', mode: 'push', endpoint: 'east', trigger: 'event', flatten: 'none', filters });

  const image = await pushSmallImage(srv(), prefix, 'v1');
  const [there] = await waitForExecutions(srv(), eastPolicy.id, 1);
  assert.equal(there?.status, 'succeeded', JSON.stringify(there));
  assert.ok((there?.bytes ?? 0) > 0);
  // West's copy fired West's policy once; it found East already up to date and wrote nothing.
  const [back] = await waitForExecutions(other(), westPolicy.id, 1);
  assert.equal(back?.status, 'succeeded', JSON.stringify(back));
  assert.equal(back?.bytes, 0, JSON.stringify(back));

  await sleep(3000);
  assert.equal((await listExecutions(srv(), eastPolicy.id)).length, 1, 'east ran again');
  assert.equal((await listExecutions(other(), westPolicy.id)).length, 1, 'west ran again');
  const copy = await registryRequest(other(), `/v2/${prefix}/manifests/v1`, { method: 'HEAD', headers: { accept: MT.manifest } });
  assert.equal(copy.headers.get('docker-content-digest'), image.digest);
});
