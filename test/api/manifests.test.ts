import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOciError } from './support/client.js';
import {
  DOCKER_LIST, OCI_INDEX, OCI_MANIFEST, descriptorOf, imageParts, manifestBody, sha256, sha512,
} from './support/oci.js';
import { startTestRegistry, testDatabaseNames, type TestRegistry } from './support/server.js';

for (const database of testDatabaseNames()) {
  describe(`manifests (${database})`, () => {
    let reg: TestRegistry;
    before(async () => (reg = await startTestRegistry(database)));
    after(() => reg.close());

    for (const docker of [false, true]) {
      it(`stores and serves a ${docker ? 'Docker schema 2' : 'OCI'} image manifest by tag and digest`, async () => {
        const image = imageParts(`m-${docker}`, docker);
        const repo = docker ? 'man/docker' : 'man/oci';
        await reg.client.pushBlob(repo, image.config);
        await reg.client.pushBlob(repo, image.layer);
        const put = await reg.client.putManifest(repo, 'v1', image.body, image.mediaType);
        assert.equal(put.status, 201);
        assert.equal(put.headers.get('docker-content-digest'), image.digest);
        assert.equal(put.headers.get('location'), `/v2/${repo}/manifests/${image.digest}`);
        for (const ref of ['v1', image.digest]) {
          const get = await reg.client.fetch(`/v2/${repo}/manifests/${ref}`, { headers: { accept: image.mediaType } });
          assert.equal(get.status, 200);
          assert.equal(get.headers.get('content-type'), image.mediaType);
          assert.equal(get.headers.get('docker-content-digest'), image.digest);
          assert.deepEqual(Buffer.from(await get.arrayBuffer()), image.body);
          const head = await reg.client.fetch(`/v2/${repo}/manifests/${ref}`, { method: 'HEAD' });
          assert.equal(head.status, 200);
          assert.equal(head.headers.get('content-length'), String(image.body.length));
          assert.equal(head.headers.get('docker-content-digest'), image.digest);
        }
      });
    }

    for (const [mediaType, label] of [[OCI_INDEX, 'OCI index'], [DOCKER_LIST, 'Docker manifest list']] as const) {
      it(`stores a ${label} whose children exist, and refuses one with a missing child`, async () => {
        const repo = `man/index-${label.split(' ')[0]!.toLowerCase()}`;
        const amd = imageParts(`${label}-amd64`);
        const arm = imageParts(`${label}-arm64`);
        await reg.client.pushImage(repo, amd.digest, amd);
        await reg.client.pushImage(repo, arm.digest, arm);
        const children = [
          { ...descriptorOf(amd.mediaType, amd.body), platform: { architecture: 'amd64', os: 'linux' } },
          { ...descriptorOf(arm.mediaType, arm.body), platform: { architecture: 'arm64', os: 'linux' } },
        ];
        const index = manifestBody({ schemaVersion: 2, mediaType, manifests: children });
        const put = await reg.client.putManifest(repo, 'multi', index.body, mediaType);
        assert.equal(put.status, 201, await put.text());
        const get = await reg.client.fetch(`/v2/${repo}/manifests/multi`);
        assert.equal(get.headers.get('content-type'), mediaType);
        const broken = manifestBody({ schemaVersion: 2, mediaType, manifests: [...children, { ...children[0]!, digest: sha256('nope') }] });
        await assertOciError(await reg.client.putManifest(repo, 'broken', broken.body, mediaType), 400, 'MANIFEST_BLOB_UNKNOWN');
        await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/broken`), 404, 'MANIFEST_UNKNOWN');
      });
    }

    it('stores an artifact manifest, with OCI-Subject for its subject, and refuses made-up manifest types', async () => {
      const repo = 'man/artifact';
      const image = imageParts('subject-image');
      await reg.client.pushImage(repo, 'v1', image);
      const blob = Buffer.from('{"sbom":true}');
      await reg.client.pushBlob(repo, blob);
      const empty = Buffer.from('{}');
      await reg.client.pushBlob(repo, empty);
      const artifact = manifestBody({
        schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom',
        config: descriptorOf('application/vnd.oci.empty.v1+json', empty),
        layers: [descriptorOf('application/json', blob)],
        subject: descriptorOf(OCI_MANIFEST, image.body),
        annotations: { 'org.example.kind': 'sbom' },
      });
      const put = await reg.client.putManifest(repo, artifact.digest, artifact.body, OCI_MANIFEST);
      assert.equal(put.status, 201, await put.text());
      assert.equal(put.headers.get('oci-subject'), image.digest);
      // A made-up manifest media type is refused (distribution does the same); artifacts use the image manifest.
      const custom = manifestBody({ schemaVersion: 2, mediaType: 'application/vnd.example.custom+json', blobs: [descriptorOf('application/json', blob)] });
      await assertOciError(await reg.client.putManifest(repo, 'custom', custom.body, 'application/vnd.example.custom+json'), 400, 'MANIFEST_INVALID');
    });

    it('accepts a manifest whose subject does not exist yet', async () => {
      const repo = 'man/dangling';
      const empty = Buffer.from('{}');
      await reg.client.pushBlob(repo, empty);
      const artifact = manifestBody({
        schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sig',
        config: descriptorOf('application/vnd.oci.empty.v1+json', empty), layers: [descriptorOf('application/vnd.oci.empty.v1+json', empty)],
        subject: { mediaType: OCI_MANIFEST, digest: sha256('future'), size: 10 },
      });
      const put = await reg.client.putManifest(repo, artifact.digest, artifact.body, OCI_MANIFEST);
      assert.equal(put.status, 201);
      assert.equal(put.headers.get('oci-subject'), sha256('future'));
    });

    it('verifies a manifest pushed by digest, sha256 and sha512', async () => {
      const repo = 'man/bydigest';
      const image = imageParts('by-digest');
      await reg.client.pushBlob(repo, image.config);
      await reg.client.pushBlob(repo, image.layer);
      await assertOciError(await reg.client.putManifest(repo, sha256('other'), image.body, OCI_MANIFEST), 400, 'DIGEST_INVALID');
      const put512 = await reg.client.putManifest(repo, sha512(image.body), image.body, OCI_MANIFEST);
      assert.equal(put512.status, 201, await put512.text());
      assert.equal(put512.headers.get('docker-content-digest'), sha512(image.body));
      const get = await reg.client.fetch(`/v2/${repo}/manifests/${sha512(image.body)}`);
      assert.equal(get.status, 200);
    });

    it('refuses bad manifests with the OCI code and stores nothing', async () => {
      const repo = 'man/bad';
      await assertOciError(await reg.client.putManifest(repo, 'notjson', Buffer.from('{not json'), OCI_MANIFEST), 400, 'MANIFEST_INVALID');
      const image = imageParts('missing-blobs');
      await assertOciError(await reg.client.putManifest(repo, 'missing', image.body, OCI_MANIFEST), 400, 'MANIFEST_BLOB_UNKNOWN');
      const mismatch = manifestBody({ ...image.manifest, mediaType: OCI_INDEX });
      await assertOciError(await reg.client.putManifest(repo, 'mismatch', mismatch.body, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
      const noLayers = manifestBody({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: image.manifest.config });
      await assertOciError(await reg.client.putManifest(repo, 'nolayers', noLayers.body, OCI_MANIFEST), 400, 'MANIFEST_INVALID');
      const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 32);
      await assertOciError(await reg.client.putManifest(repo, 'huge', huge, OCI_MANIFEST), 413, 'MANIFEST_INVALID');
      await assertOciError(await reg.client.fetch(`/v2/${repo}/tags/list`), 404, 'NAME_UNKNOWN');
    });

    it('answers MANIFEST_UNKNOWN for unknown tags and digests', async () => {
      await assertOciError(await reg.client.fetch('/v2/man/none/manifests/latest'), 404, 'MANIFEST_UNKNOWN');
      await assertOciError(await reg.client.fetch(`/v2/man/none/manifests/${sha256('x')}`), 404, 'MANIFEST_UNKNOWN');
      const head = await reg.client.fetch('/v2/man/none/manifests/latest', { method: 'HEAD' });
      assert.equal(head.status, 404);
    });

    it('negotiates by Accept: an index-blind client gets the linux/amd64 child, OCI is refused to Docker-only clients', async () => {
      const repo = 'man/negotiate';
      const amd = imageParts('neg-amd64', true);
      const arm = imageParts('neg-arm64', true);
      await reg.client.pushImage(repo, amd.digest, amd);
      await reg.client.pushImage(repo, arm.digest, arm);
      const list = manifestBody({ schemaVersion: 2, mediaType: DOCKER_LIST, manifests: [
        { ...descriptorOf(arm.mediaType, arm.body), platform: { architecture: 'arm64', os: 'linux' } },
        { ...descriptorOf(amd.mediaType, amd.body), platform: { architecture: 'amd64', os: 'linux' } },
      ] });
      assert.equal((await reg.client.putManifest(repo, 'list', list.body, DOCKER_LIST)).status, 201);
      const legacy = await reg.client.fetch(`/v2/${repo}/manifests/list`, { headers: { accept: amd.mediaType } });
      assert.equal(legacy.status, 200);
      assert.equal(legacy.headers.get('docker-content-digest'), amd.digest);
      const modern = await reg.client.fetch(`/v2/${repo}/manifests/list`, { headers: { accept: `${DOCKER_LIST}, ${amd.mediaType}` } });
      assert.equal(modern.headers.get('docker-content-digest'), list.digest);
      const oci = imageParts('neg-oci');
      await reg.client.pushImage(repo, 'oci', oci);
      await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/oci`, { headers: { accept: amd.mediaType } }), 404, 'MANIFEST_UNKNOWN');
      assert.equal((await reg.client.fetch(`/v2/${repo}/manifests/oci`, { headers: { accept: '*/*' } })).status, 200);
    });

    it('moves a tag to a new manifest', async () => {
      const repo = 'man/move';
      const a = imageParts('move-a');
      const b = imageParts('move-b');
      await reg.client.pushImage(repo, 'latest', a);
      await reg.client.pushImage(repo, 'latest', b);
      const get = await reg.client.fetch(`/v2/${repo}/manifests/latest`, { method: 'HEAD' });
      assert.equal(get.headers.get('docker-content-digest'), b.digest);
      assert.equal((await reg.client.fetch(`/v2/${repo}/manifests/${a.digest}`, { method: 'HEAD' })).status, 200);
    });
  });
}
