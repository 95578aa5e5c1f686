import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { registryTest } from '../helpers/e2e.js';
import { sha256 } from '../helpers/hash.js';
import { describeHttp, registryRequest } from '../helpers/oci-http.js';
import { startTarget, type RegistryHandle } from '../helpers/server.js';
import { uniqueRepo } from '../helpers/temp.js';
import { prepareE2eProject } from '../helpers/wharf-api.js';
import { pushReferrer, pushSmallImage } from '../helpers/oci-artifacts.js';
import { MT, type Descriptor } from '../fixtures/oci-layout.js';

// OCI 1.1 referrers: artifacts whose `subject` is an image, listed by the referrers API.
// No installed client speaks it (oras is absent), so this uses fetch.

let server: RegistryHandle | undefined;

before(async () => {
  server = await startTarget();
  await prepareE2eProject(server);
});

after(async () => {
  await server?.stop();
});

const srv = (): RegistryHandle => {
  assert.ok(server, 'registry not started');
  return server;
};

const SBOM = 'application/vnd.example.sbom.v1+json';
const SIGNATURE = 'application/vnd.example.signature.v1';

interface ReferrersIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

const pushImage = (repo: string, tag: string, seed?: string) => pushSmallImage(srv(), repo, tag, seed);
const pushArtifact = (repo: string, subject: Descriptor, artifactType: string, payload: string) => pushReferrer(srv(), repo, subject, artifactType, payload);

async function referrers(repo: string, digest: string, query = ''): Promise<{ index: ReferrersIndex; filters: string | null; why: string }> {
  const res = await registryRequest(srv(), `/v2/${repo}/referrers/${digest}${query}`);
  const why = describeHttp(`GET referrers ${digest}${query}`, res);
  assert.equal(res.status, 200, why);
  assert.match(res.headers.get('content-type') ?? '', /^application\/vnd\.oci\.image\.index\.v1\+json/, why);
  const index = JSON.parse(res.text) as ReferrersIndex;
  assert.equal(index.schemaVersion, 2, why);
  assert.equal(index.mediaType, MT.index, why);
  return { index, filters: res.headers.get('oci-filters-applied'), why };
}

registryTest('artifacts pushed with a subject are listed by the referrers API', srv, async () => {
  const repo = uniqueRepo('referrers');
  const image = await pushImage(repo, 'v1');
  const sbom = await pushArtifact(repo, image, SBOM, '{"packages":[]}');
  const sig = await pushArtifact(repo, image, SIGNATURE, 'signature bytes');

  const all = await referrers(repo, image.digest);
  const listed = [...all.index.manifests].sort((a, b) => a.digest.localeCompare(b.digest));
  const expected = [sbom, sig].sort((a, b) => a.digest.localeCompare(b.digest));
  assert.deepEqual(listed.map((d) => [d.digest, d.mediaType, d.size, d.artifactType]),
    expected.map((d) => [d.digest, d.mediaType, d.size, d.artifactType]), all.why);
  for (const d of listed) {
    assert.equal(d.annotations?.['org.example.kind'], d.artifactType, `annotations must be copied\n${all.why}`);
  }
  assert.equal(all.filters, null, `no filter was asked for\n${all.why}`);

  // The artifact itself is a normal manifest, fetchable by digest.
  const get = await registryRequest(srv(), `/v2/${repo}/manifests/${sbom.digest}`, { headers: { accept: MT.manifest } });
  assert.equal(get.status, 200, describeHttp('GET artifact', get));
  assert.equal(sha256(get.text), sbom.digest);
});

registryTest('referrers filtered by artifactType, with OCI-Filters-Applied', srv, async () => {
  const repo = uniqueRepo('referrers-filter');
  const image = await pushImage(repo, 'v1');
  const sbom = await pushArtifact(repo, image, SBOM, '{"packages":["a"]}');
  await pushArtifact(repo, image, SIGNATURE, 'another signature');

  const filtered = await referrers(repo, image.digest, `?artifactType=${encodeURIComponent(SBOM)}`);
  assert.deepEqual(filtered.index.manifests.map((d) => d.digest), [sbom.digest], filtered.why);
  assert.equal(filtered.filters, 'artifactType', filtered.why);

  const none = await referrers(repo, image.digest, `?artifactType=${encodeURIComponent('application/x-nothing')}`);
  assert.deepEqual(none.index.manifests, [], none.why);
});

registryTest('referrers of a digest without referrers is an empty index, not 404', srv, async () => {
  const repo = uniqueRepo('referrers-empty');
  const image = await pushImage(repo, 'v1');
  const own = await referrers(repo, image.digest);
  assert.deepEqual(own.index.manifests, [], own.why);
  const unknown = await referrers(repo, sha256(`nothing here ${Date.now()}`));
  assert.deepEqual(unknown.index.manifests, [], unknown.why);

  // A malformed digest is a client error (400), never a 500.
  const bad = await registryRequest(srv(), `/v2/${repo}/referrers/sha256:not-a-digest`);
  assert.equal(bad.status, 400, describeHttp('GET referrers with a bad digest', bad));
});

registryTest('referrers only list artifacts of the same repository', srv, async () => {
  const repoA = uniqueRepo('referrers-a');
  const repoB = uniqueRepo('referrers-b');
  const imageA = await pushImage(repoA, 'v1', 'shared');
  // The same image bytes in repo B: same digest, different repository.
  const imageB = await pushImage(repoB, 'v1', 'shared');
  assert.equal(imageA.digest, imageB.digest);
  const sbom = await pushArtifact(repoA, imageA, SBOM, '{"packages":["b"]}');
  assert.deepEqual((await referrers(repoA, imageA.digest)).index.manifests.map((d) => d.digest), [sbom.digest]);
  assert.deepEqual((await referrers(repoB, imageA.digest)).index.manifests, []);
});
