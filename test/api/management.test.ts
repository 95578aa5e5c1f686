import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOciError } from './support/client.js';
import { imageParts, sha256 } from './support/oci.js';
import { startTestRegistry, testDatabaseNames, type TestRegistry } from './support/server.js';

for (const database of testDatabaseNames()) {
  describe(`content management (${database})`, () => {
    let reg: TestRegistry;
    before(async () => (reg = await startTestRegistry(database)));
    after(() => reg.close());

    it('deletes a tag (202) and keeps the manifest', async () => {
      const repo = 'mgmt/tag';
      const image = imageParts('del-tag');
      await reg.client.pushImage(repo, 'a', image);
      await reg.client.pushImage(repo, 'b', image);
      assert.equal((await reg.client.fetch(`/v2/${repo}/manifests/a`, { method: 'DELETE' })).status, 202);
      await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/a`), 404, 'MANIFEST_UNKNOWN');
      assert.equal((await reg.client.fetch(`/v2/${repo}/manifests/b`)).status, 200);
      assert.deepEqual((await (await reg.client.fetch(`/v2/${repo}/tags/list`)).json() as { tags: string[] }).tags, ['b']);
    });

    it('deletes a manifest by digest (202) with all its tags', async () => {
      const repo = 'mgmt/manifest';
      const image = imageParts('del-manifest');
      await reg.client.pushImage(repo, 'v1', image);
      await reg.client.pushImage(repo, 'v2', image);
      assert.equal((await reg.client.fetch(`/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);
      await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/${image.digest}`), 404, 'MANIFEST_UNKNOWN');
      await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
      await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    });

    it('deletes a blob (202), after which it is unknown', async () => {
      const repo = 'mgmt/blob';
      const digest = await reg.client.pushBlob(repo, Buffer.from('delete me'));
      assert.equal((await reg.client.fetch(`/v2/${repo}/blobs/${digest}`, { method: 'DELETE' })).status, 202);
      await assertOciError(await reg.client.fetch(`/v2/${repo}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
      await assertOciError(await reg.client.fetch(`/v2/${repo}/blobs/${sha256('never')}`, { method: 'DELETE' }), 404, 'BLOB_UNKNOWN');
    });
  });

  describe(`deletes disabled (${database})`, () => {
    let reg: TestRegistry;
    before(async () => (reg = await startTestRegistry(database, { registry: { deleteEnabled: false } })));
    after(() => reg.close());

    it('answers 405 UNSUPPORTED to manifest and blob deletes and keeps the content', async () => {
      const repo = 'mgmt/nodelete';
      const image = imageParts('no-delete');
      await reg.client.pushImage(repo, 'v1', image);
      await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/${image.digest}`, { method: 'DELETE' }), 405, 'UNSUPPORTED');
      await assertOciError(await reg.client.fetch(`/v2/${repo}/manifests/v1`, { method: 'DELETE' }), 405, 'UNSUPPORTED');
      await assertOciError(await reg.client.fetch(`/v2/${repo}/blobs/${sha256(image.layer)}`, { method: 'DELETE' }), 405, 'UNSUPPORTED');
      assert.equal((await reg.client.fetch(`/v2/${repo}/manifests/v1`)).status, 200);
    });
  });
}
