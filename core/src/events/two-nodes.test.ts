import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { coreServices, defineEventType, definePlugin, Type, type Digest, type EventEnvelope } from '@wharf/sdk';
import { loadConfig } from '../config/load-config.js';
import { REDIS_URL } from '../jobs/test-support/index.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';
import { baseConfig, tempDir } from '../kernel/test-support.js';
import { createTestDatabase, type TestDatabase } from '@wharf/sdk-testing/databases';

// Two nodes as deployed for scale: one PostgreSQL database, one storage, jobs on Redis. Images
// pushed through either node and events published on either are each handled once per
// consumer, by whichever node is free, and both nodes take part.

const custom = defineEventType<{ n: number }>('test.node.event');
const handled = new Map<string, string[]>();
const seen: EventEnvelope[] = [];

function counter(node: string) {
  return definePlugin({
    id: 'node-counter', kind: 'extension', version: '0.0.0', kernel: '>=0.1.0', configSchema: Type.Object({}),
    register(ctx) {
      ctx.events.subscribe({
        name: 'node-counter', types: ['registry.*', 'test.*'], concurrency: 4,
        handle: async ({ event }) => {
          handled.set(event.id, [...(handled.get(event.id) ?? []), node]);
          seen.push(event);
          await sleep(1);
        },
      });
    },
  });
}

const sha256 = (b: Buffer): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('durable events on two nodes (PostgreSQL + Redis)', () => {
  let db: TestDatabase;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  const nodes: Kernel[] = [];

  before(async () => {
    db = await createTestDatabase('postgres');
    tmp = await tempDir('wharf-two-nodes-');
    const prefix = `wharf-events-${randomBytes(4).toString('hex')}`;
    for (const name of ['a', 'b']) {
      const config = baseConfig(tmp.dir, {
        log: { level: 'warn', format: 'json' },
        database: db.config,
        jobs: { backend: 'redis', redis: { url: REDIS_URL, prefix } },
        events: { pollIntervalMs: 50 },
        extensions: { 'node-counter': {} },
      });
      const kernel = createKernel(await loadConfig({ config, env: {}, plugins: [counter(name)] }), { logDestination: new PassThrough() });
      await kernel.boot();
      nodes.push(kernel);
    }
  });
  after(async () => {
    for (const k of nodes) await k.close();
    await db?.drop();
    await tmp?.cleanup();
  });

  it('handles every event once per consumer, with both nodes working', async () => {
    await Promise.all(nodes.map(async (kernel, i) => {
      const content = kernel.resolve(coreServices.content);
      for (let k = 0; k < 5; k++) {
        const repo = `library/node-${i}-${k}`;
        const layer = Buffer.from(`layer ${i} ${k}`);
        const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: `${i}-${k}` }));
        for (const blob of [layer, config]) await content.putBlob(repo, { digest: sha256(blob), size: blob.length, data: Readable.from([blob]) });
        const payload = Buffer.from(JSON.stringify({
          schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
        }));
        await content.putManifest(repo, 'v1', { mediaType: 'application/vnd.oci.image.manifest.v1+json', payload });
        await kernel.resolve(coreServices.events).publish(Array.from({ length: 4 }, (_, n) => ({ type: custom, partition: repo, data: { n } })));
      }
    }));
    const expected = 2 * 5 * (2 + 1 + 4); // per image: two blobs, one manifest, four custom events
    const deadline = Date.now() + 30_000;
    while (handled.size < expected && Date.now() < deadline) await sleep(50);
    await sleep(500); // a duplicate would show up now
    assert.equal(handled.size, expected, `handled ${handled.size} of ${expected} events`);
    const twice = [...handled.entries()].filter(([, by]) => by.length > 1);
    assert.deepEqual(twice, [], 'no event handled twice');
    const byNode = { a: 0, b: 0 } as Record<string, number>;
    for (const [, by] of handled) byNode[by[0]!]! += 1;
    assert.ok(byNode['a']! > 0 && byNode['b']! > 0, `both nodes handled events: ${JSON.stringify(byNode)}`);
    // Order per repository: the blob commits, then the manifest, then the custom events in order.
    for (const repo of new Set(seen.map((e) => e.partition))) {
      const types = seen.filter((e) => e.partition === repo).map((e) => (e.type === 'test.node.event' ? `n${(e.data as { n: number }).n}` : e.type));
      assert.deepEqual(types, ['registry.blob.committed', 'registry.blob.committed', 'registry.manifest.pushed', 'n0', 'n1', 'n2', 'n3'], repo);
    }
  });
});
