import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Digest } from '@wharf/sdk';
import { hashStream, seededStream } from '@wharf/sdk-testing';
import { OciTarget } from './index.js';
import { startDockerRegistry, type DockerRegistryHandle } from './test-support/docker-registry.js';

// Blobs never sit whole in memory: 256 MiB up and down through distribution 2.8, streamed and
// in 8 MiB chunks, while the process RSS grows by less than 64 MiB.

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const LIMIT = 64 * MiB;

let registry: DockerRegistryHandle;
let target: OciTarget;

before(async () => {
  registry = await startDockerRegistry();
  target = new OciTarget({ name: 'distribution-memory', type: 'oci', url: registry.url });
});

after(async () => {
  await target?.close();
  await registry?.stop();
});

describe('oci adapter memory use', () => {
  for (const chunkSize of [undefined, 8 * MiB]) {
    it(`writes and reads a 256 MiB blob ${chunkSize ? 'in 8 MiB chunks' : 'streamed'} with RSS growth under 64 MiB`, async (t) => {
      const seed = chunkSize ? 0xc0ffee : 0xbeef;
      const repository = `memory/${chunkSize ? 'chunked' : 'streamed'}`;
      // The digest first, from its own pass over the seeded bytes: nothing is kept.
      const { digest } = await hashStream(seededStream(seed, SIZE));
      const baseline = process.memoryUsage.rss();
      let peak = baseline;
      const sample = () => {
        peak = Math.max(peak, process.memoryUsage.rss());
      };
      const timer = setInterval(sample, 20);
      try {
        await target.writeBlob(repository, digest as Digest, SIZE, seededStream(seed, SIZE, { onChunk: sample }), { chunkSize });
        const reader = await target.readBlob(repository, digest as Digest);
        assert.equal(reader.size, SIZE);
        const back = await hashStream(reader.stream, 'sha256', sample);
        assert.deepEqual(back, { digest, size: SIZE });
      } finally {
        clearInterval(timer);
      }
      const growth = peak - baseline;
      assert.ok(growth < LIMIT, `RSS grew by ${(growth / MiB).toFixed(1)} MiB moving ${SIZE / MiB} MiB (limit ${LIMIT / MiB} MiB)`);
      t.diagnostic(`RSS growth ${(growth / MiB).toFixed(1)} MiB`);
    });
  }
});
