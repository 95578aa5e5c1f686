import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { coreServices } from '@wharf/sdk';
import { createTestDatabase, pushImage, startTestRegistry, tinyImage, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { webhooksPlugin } from './index.js';
import { webhooksServiceRef } from './services.js';
import { verifySignature } from './signing.js';
import { createPolicy, Receiver } from './test-support.js';

// Two nodes on one PostgreSQL database, as deployed for scale: pushes through either node reach
// every receiver once (no event twice, none lost), and both nodes' workers take part.

describe('webhooks on two nodes (PostgreSQL)', () => {
  let db: TestDatabase;
  const nodes: TestRegistry[] = [];
  let receiver: Receiver;

  before(async () => {
    db = await createTestDatabase('postgres');
    receiver = await Receiver.start();
    // Every node needs the deployment's key (secretKey) to open the secrets another node sealed.
    const secretKey = randomBytes(32).toString('base64');
    for (let i = 0; i < 2; i++) {
      nodes.push(await startTestRegistry({
        plugins: [webhooksPlugin],
        config: { database: db.config, secretKey, events: { pollIntervalMs: 50 }, extensions: { webhooks: { delivery: { pollIntervalMs: 50, backoffMs: 50 } } } },
      }));
    }
  });
  after(async () => {
    for (const node of nodes) await node.close();
    await receiver?.close();
    await db?.drop();
  });

  it('delivers each event once per target, from both nodes', async () => {
    receiver.delayMs = 20;
    const svc = nodes[0]!.get(webhooksServiceRef);
    const one = await createPolicy(svc, 'twin', { targets: [{ address: receiver.url }] });
    const two = await createPolicy(svc, 'twin', { targets: [{ address: `${receiver.url}?second` }] });
    const pushes = 12;
    await Promise.all(nodes.map(async (node, n) => {
      for (let i = n; i < pushes; i += 2) await pushImage(node.url, 'twin/app', `v${i}`, tinyImage({ text: `twin ${i}` }));
    }));
    const expected = pushes * 2;
    await receiver.waitFor(expected, undefined, 30_000);
    await sleep(500); // a duplicate would show up now
    assert.equal(receiver.requests.length, expected);
    const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
    assert.equal(new Set(ids).size, expected, 'no delivery twice');
    for (const r of receiver.requests) {
      const ok = verifySignature(one.secret, r.headers['webhook-signature'] as string, r.body) || verifySignature(two.secret, r.headers['webhook-signature'] as string, r.body);
      assert.ok(ok, 'signed with its policy secret, whichever node sent it');
    }
    const tags = receiver.requests.map((r) => r.json.event_data.resources[0].tag as string);
    for (let i = 0; i < pushes; i++) assert.equal(tags.filter((t) => t === `v${i}`).length, 2, `v${i} reached both targets once`);
    const knex = nodes[0]!.get(coreServices.database).knex;
    // claimed_by is `<node>:<claim counter>`.
    const holders = (await knex('webhooks_deliveries').distinct('claimed_by')) as { claimed_by: string }[];
    const senders = new Set(holders.map((h) => h.claimed_by.replace(/:\d+$/, '')));
    assert.equal(senders.size, 2, `both nodes delivered: ${JSON.stringify([...senders])}`);
  });
});
