import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { RegistryError, type BlobCommitContext } from '@wharf/sdk';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { SYSTEM_PRINCIPAL } from './index.js';
import { blob, openContentFixture, type ContentFixture } from './test-support.js';

/**
 * `registry.beforeBlobCommit` and `registry.blobCommitFailed` through the upload service that
 * the routes and `coreServices.content` share: the gate sees every upload and mount with its
 * size and source; a refusal leaves no blob, link or upload; the failure hook receives the very
 * context object the gate saw, so a gate can release what it reserved.
 */

forEachDatabase((_name, create) => {
  let f: ContentFixture;
  const gated: BlobCommitContext[] = [];
  const failed: Array<{ context: BlobCommitContext; error: unknown }> = [];
  const refused = blob('refused by the second gate');
  before(async () => {
    f = await openContentFixture((await create()).config);
    f.hooks.registry.beforeBlobCommit.tapPromise('recorder', async (context) => {
      gated.push(context);
    });
    f.hooks.registry.beforeBlobCommit.tapPromise('refuser', async ({ digest, kind, repository }) => {
      if (digest === refused.digest || (kind === 'mount' && repository === 'gate/closed')) throw new RegistryError('DENIED', 'no room');
    });
    f.hooks.registry.blobCommitFailed.tapPromise('releaser', async (context, error) => {
      failed.push({ context, error });
    });
  });
  after(() => f.close());

  it('passes an upload to the gate with its size, then commits it', async () => {
    const b = blob('gated upload');
    await f.content.putBlob('gate/open', { digest: b.digest, size: b.size, data: b.data() });
    const context = gated.find((c) => c.digest === b.digest);
    assert.ok(context);
    assert.deepEqual({ ...context, request: undefined }, { repository: 'gate/open', digest: b.digest, size: b.size, kind: 'upload', from: undefined, principal: SYSTEM_PRINCIPAL, request: undefined });
    assert.deepEqual(await f.metadata.getLinkedBlob('gate/open', b.digest), { size: b.size });
    assert.equal(failed.length, 0);
  });

  it('refuses an upload: nothing stored, linked or left open; blobCommitFailed gets the same context', async () => {
    await assert.rejects(f.content.putBlob('gate/open', { digest: refused.digest, size: refused.size, data: refused.data() }), { code: 'DENIED', message: 'no room' });
    assert.equal(await f.storage.stat(refused.digest), undefined);
    assert.equal(await f.metadata.getLinkedBlob('gate/open', refused.digest), undefined);
    assert.deepEqual(await f.uploadFiles(), []);
    assert.deepEqual(await f.metadata.listStaleUploads(new Date(Date.now() + 60_000), 100), []);
    const context = gated.find((c) => c.digest === refused.digest);
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.context, context, 'the same object the gate saw');
    assert.ok(failed[0]!.error instanceof RegistryError);
  });

  it('passes a mount with its source, and a refused mount links nothing', async () => {
    const b = blob('gated mount');
    await f.content.putBlob('gate/src', { digest: b.digest, size: b.size, data: b.data() });
    assert.equal(await f.content.mountBlob('gate/dst', b.digest, 'gate/src'), true);
    const mount = gated.find((c) => c.kind === 'mount' && c.repository === 'gate/dst');
    assert.equal(mount?.from, 'gate/src');
    assert.equal(mount?.size, b.size);
    await assert.rejects(f.content.mountBlob('gate/closed', b.digest, 'gate/src'), { code: 'DENIED' });
    assert.equal(await f.metadata.getLinkedBlob('gate/closed', b.digest), undefined);
    assert.equal(failed.at(-1)?.context.repository, 'gate/closed');
    // A mount whose source lacks the blob is no commit: the gate is not asked.
    const before = gated.length;
    assert.equal(await f.content.mountBlob('gate/dst', blob('nowhere').digest, 'gate/src'), false);
    assert.equal(gated.length, before);
  });
});
