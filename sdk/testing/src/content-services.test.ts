import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  coreServices,
  createServiceRef,
  definePlugin,
  RegistryError,
  Type,
  type ArtifactService,
  type BlobService,
  type ContentService,
  type ManifestPushedEvent,
  type UploadSessionService,
} from '@wharf/sdk';
import { createTestKernel, tinyImage, type TestKernel } from './index.js';

/**
 * The content services through the real kernel: a plugin declares them as dependencies of the
 * service it provides and uses them as a mirror or GC plugin would, with the kernel's events.
 */

interface Mirror {
  /** Copies a tiny image into the registry through coreServices.content. */
  push(repository: string, tag: string): Promise<string>;
  /** What GC would ask: who references this digest, and is it a candidate? */
  inspect(digest: string): Promise<{ referencing: string[]; unreferenced: boolean }>;
  readonly deps: { artifacts: ArtifactService; blobs: BlobService; uploads: UploadSessionService; content: ContentService };
}

const mirrorRef = createServiceRef<Mirror>({ id: 'mirror.service' });
const pushed: ManifestPushedEvent[] = [];

const mirrorPlugin = definePlugin({
  id: 'mirror',
  kind: 'extension',
  version: '1.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.hooks.registry.manifestPushed.tapPromise('mirror', async (event) => {
      pushed.push(event);
    });
    ctx.provide(mirrorRef, {
      deps: { artifacts: coreServices.artifacts, blobs: coreServices.blobs, uploads: coreServices.uploads, content: coreServices.content },
      factory: (deps) => ({
        deps,
        async push(repository, tag) {
          const image = tinyImage({ text: `mirror ${repository}` });
          const actor = { principal: { subject: 'mirror', kind: 'system' as const, provider: 'mirror', admin: true, groups: [] } };
          for (const blob of [image.config, ...image.layers]) {
            await deps.content.putBlob(repository, { digest: blob.digest, size: blob.size, data: Readable.from([blob.bytes]) }, actor);
          }
          const stored = await deps.content.putManifest(repository, tag, { payload: image.manifest.bytes, mediaType: image.manifest.mediaType }, actor);
          return stored.digest;
        },
        async inspect(digest) {
          const referencing = (await deps.artifacts.listReferencing(digest)).items.map((r) => `${r.repository}@${r.digest}`);
          const candidates = (await deps.blobs.listUnreferenced(new Date(Date.now() + 60_000))).items.map((b) => b.digest);
          return { referencing, unreferenced: candidates.includes(digest) };
        },
      }),
    });
  },
});

describe('content services through createTestKernel', () => {
  let kernel: TestKernel;
  before(async () => {
    kernel = await createTestKernel({ plugins: [mirrorPlugin] });
  });
  after(() => kernel.close());

  it('gives a plugin the four refs, resolved, and they are the kernel’s own', () => {
    const mirror = kernel.get(mirrorRef);
    assert.equal(mirror.deps.artifacts, kernel.get(coreServices.artifacts));
    assert.equal(mirror.deps.blobs, kernel.get(coreServices.blobs));
    assert.equal(mirror.deps.uploads, kernel.get(coreServices.uploads));
    assert.equal(mirror.deps.content, kernel.get(coreServices.content));
  });

  it('writes an image with events, reads it back, and answers what GC asks', async () => {
    const mirror = kernel.get(mirrorRef);
    const digest = await mirror.push('mirror/app', 'v1');
    const artifact = await mirror.deps.artifacts.getArtifact('mirror/app', 'v1');
    assert.equal(artifact?.digest, digest);
    assert.deepEqual(artifact?.tags, ['v1']);
    await new Promise((resolve) => setImmediate(resolve));
    const event = pushed.find((e) => e.digest === digest);
    assert.equal(event?.actor.subject, 'mirror');
    assert.equal(event?.repository, 'mirror/app');

    const image = tinyImage({ text: 'mirror mirror/app' });
    const layer = image.layers[0];
    assert.ok(layer);
    assert.deepEqual(await mirror.inspect(layer.digest), { referencing: [`mirror/app@${digest}`], unreferenced: false });
    await mirror.deps.content.deleteManifest('mirror/app', digest);
    assert.deepEqual(await mirror.inspect(layer.digest), { referencing: [], unreferenced: true });
    const read = await mirror.deps.blobs.read('mirror/app', layer.digest);
    assert.equal(read.size, layer.size);
    read.stream.destroy();
    await assert.rejects(
      mirror.deps.content.putManifest('mirror/other', 'v1', { payload: image.manifest.bytes, mediaType: image.manifest.mediaType }),
      (err: unknown) => err instanceof RegistryError && err.code === 'MANIFEST_BLOB_UNKNOWN',
    );
    assert.deepEqual(await mirror.deps.uploads.listStale(new Date(Date.now() + 60_000)), []);
  });
});
