import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { releasesChunksOnCallbackOf, type Digest } from '@wharf/sdk';
import { OciTarget } from './index.js';
import { startDockerRegistry, type DockerRegistryHandle } from './test-support/docker-registry.js';
import { lendingBlob } from './test-support/lending-source.js';

// The streamed upload hands its request body to the source itself (so Wharf's fs storage can lend
// pooled buffers to it): that body must carry the SDK's mark, and only while it keeps the promise
// the mark makes (its write callback runs once the request has flushed the chunk).

let registry: DockerRegistryHandle;
before(async () => {
  registry = await startDockerRegistry();
});
after(async () => {
  await registry?.stop();
});

/** A source that remembers what it was piped into. */
class RecordingSource extends Readable {
  destination: Writable | undefined;
  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    this.destination = destination as unknown as Writable;
    return super.pipe(destination, options);
  }
}

describe('streamed blob upload', () => {
  it('pipes the source straight into a request body marked releasesChunksOnCallback, and the blob arrives intact', async () => {
    const target = new OciTarget({ name: 'distribution', type: 'oci', url: registry.url });
    try {
      const bytes = randomBytes(3 * 1024 * 1024 + 5);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
      const source = new RecordingSource({ read() {} });
      for (let offset = 0; offset < bytes.length; offset += 1024 * 1024) source.push(bytes.subarray(offset, offset + 1024 * 1024));
      source.push(null);
      await target.writeBlob('upload/marked', digest, bytes.length, source);
      assert.ok(source.destination, 'the source was piped');
      assert.equal(releasesChunksOnCallbackOf(source.destination), true);
      const back = await target.readBlob('upload/marked', digest);
      const chunks: Buffer[] = [];
      for await (const chunk of back.stream) chunks.push(chunk as Buffer);
      assert.ok(Buffer.concat(chunks).equals(bytes));
    } finally {
      await target.close();
    }
  });

  it('calls back for a chunk only once the request has taken it, so a lending source may reuse the buffer', async () => {
    const target = new OciTarget({ name: 'distribution', type: 'oci', url: registry.url });
    try {
      // An early callback would corrupt the blob, and the registry, which checks the digest, would refuse it.
      const { digest, size, source } = lendingBlob(8);
      await target.writeBlob('upload/lent', digest, size, source);
      assert.equal(await target.hasBlob('upload/lent', digest), true);
    } finally {
      await target.close();
    }
  });
});
