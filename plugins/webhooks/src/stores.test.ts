import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachDatabase, pushImage, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import type { StoredEvent } from './delivery-store.js';
import { MAX_ATTEMPTS, type StuckEvent } from './fanout-queue.js';
import { webhooksPlugin } from './index.js';
import { fanoutConsumer } from './fanout.js';
import { coreServices, registryEvents } from '@wharf/sdk';
import { webhooksServiceRef, type WebhooksService } from './services.js';
import { verifySignature } from './signing.js';
import { createPolicy, Receiver } from './test-support.js';

// The stores on SQLite, PostgreSQL and MySQL: a repeated fan-out writes nothing twice, one of two
// claims wins, a node that lost its row cannot overwrite it, the purge keeps what is unfinished;
// and one real delivery end to end on each database.

const EVENT: StoredEvent = {
  payload: { type: 'PUSH_ARTIFACT', occur_at: 1, operator: 'test', event_data: {} },
  cloudEventType: 'harbor.artifact.pushed',
  source: '/projects/p/webhook/policies/1',
  requestId: undefined,
  policyName: 'p',
};

forEachDatabase((name, create) => {
  let registry: TestRegistry;
  let svc: WebhooksService;
  let receiver: Receiver;

  before(async () => {
    const db = await create();
    receiver = await Receiver.start();
    registry = await startTestRegistry({
      plugins: [webhooksPlugin],
      // A worker that only runs when woken, so the claims below are the test's own.
      config: { database: db.config, events: { pollIntervalMs: 50 }, extensions: { webhooks: { delivery: { pollIntervalMs: 60_000, backoffMs: 50 } } } },
    });
    svc = registry.get(webhooksServiceRef);
    // The worker looks once at boot; the claims below must be the test's own.
    await svc.worker.whenIdle();
  });
  after(async () => {
    await registry?.close();
    await receiver?.close();
  });

  it(`${name}: policies, idempotent fan-out, one claim wins, a stale holder writes nothing, purge keeps unfinished rows`, async () => {
    const { policy } = await createPolicy(svc, 'stores', { name: 'ünïcode policy', targets: [{ address: 'http://127.0.0.1:9/a' }, { address: 'http://127.0.0.1:9/b', payloadFormat: 'CloudEvents' }] });
    assert.equal((await svc.policies.get('stores', policy.id))?.name, 'ünïcode policy');
    assert.equal(await svc.policies.get('elsewhere', policy.id), undefined, 'a policy is found in its own project only');
    assert.deepEqual((await svc.policies.subscribed('stores', 'PUSH_ARTIFACT')).map((p) => p.id), [policy.id]);
    assert.deepEqual(await svc.policies.subscribed('stores', 'PULL_ARTIFACT'), []);

    const rows = policy.targets.map((target, targetIndex) => ({ policyId: policy.id, eventId: 'event-1', targetIndex, target, event: EVENT }));
    const first = await svc.deliveries.enqueue(rows, 1000);
    assert.equal(first.length, 2);
    assert.deepEqual(await svc.deliveries.enqueue(rows, 1000), [], 'the same event fans out once');

    const [a, b] = first as [string, string];
    const claims = await Promise.all([svc.deliveries.claim(a, 'node-1', 2000, 10_000), svc.deliveries.claim(a, 'node-2', 2000, 10_000)]);
    assert.deepEqual(claims.filter(Boolean).length, 1, 'exactly one node gets the row');
    const holder = claims[0] ? 'node-1' : 'node-2';
    assert.equal(await svc.deliveries.claim(a, 'node-3', 5000, 10_000), false, 'a leased row is not due');
    // The lease passes (the holder died): another node takes over, and the old holder's late answer is ignored.
    assert.equal(await svc.deliveries.claim(a, 'node-3', 20_000, 10_000), true);
    await svc.deliveries.finish(a, holder, 1, { ok: true, responseCode: 200, durationMs: 1, error: undefined }, undefined, 20_001);
    assert.equal((await svc.deliveries.get(a))?.status, 'running');
    await svc.deliveries.finish(a, 'node-3', 2, { ok: false, responseCode: 502, durationMs: 3, error: 'receiver answered 502' }, 25_000, 20_002);
    const retried = await svc.deliveries.get(a);
    assert.equal(retried?.status, 'pending');
    assert.equal(retried?.attempts, 2);
    assert.equal(retried?.nextAttemptAt, 25_000);
    assert.equal(retried?.lastError, 'receiver answered 502');
    assert.deepEqual((await svc.deliveries.due(24_999, 10)).map((d) => d.id), [b]);

    assert.equal(await svc.deliveries.claim(b, 'node-1', 2000, 10_000), true);
    await svc.deliveries.finish(b, 'node-1', 1, { ok: true, responseCode: 204, durationMs: 2, error: undefined }, undefined, 3000);
    assert.equal(await svc.deliveries.purge({ maxAgeMs: 1000, maxPerPolicy: 10 }, 10_000), 1, 'only the finished row is old enough to go');
    assert.equal((await svc.deliveries.get(a))?.status, 'pending');

    assert.equal(await svc.policies.remove('elsewhere', policy.id), false);
    assert.equal(await svc.policies.remove('stores', policy.id), true);
    assert.equal(await svc.deliveries.get(a), undefined, 'deliveries go with their policy');
  });

  // SQLite has one connection per process: two writers never hold row locks at once there.
  if (name !== 'sqlite') it(`${name}: deleting a policy whose delivery rows another writer locks in another order ends in a deadlock on one side, and the delete runs again`, async () => {
    const { policy } = await createPolicy(svc, 'deadlock', { targets: [{ address: 'http://127.0.0.1:9/a' }, { address: 'http://127.0.0.1:9/b' }] });
    const rows = policy.targets.map((target, targetIndex) => ({ policyId: policy.id, eventId: `deadlock-${name}`, targetIndex, target, event: EVENT }));
    // Due in an hour: no worker touches them.
    await svc.deliveries.enqueue(rows, Date.now() + 3_600_000);
    const knex = registry.get(coreServices.database).knex;
    // The row the delete takes first: PostgreSQL scans this small table in insertion order,
    // MySQL walks the policy_id index (then the primary key).
    const stored = (await knex('webhooks_deliveries').where({ policy_id: policy.id }).orderBy('target_index').select('id')) as Array<{ id: string }>;
    const ids = stored.map((r) => r.id);
    const [a, b] = (name === 'mysql' ? ids.sort() : ids) as [string, string];
    const other = await knex.transaction();
    let otherFailed = false;
    try {
      await other('webhooks_deliveries').where({ id: b }).update({ attempts: 7 });
      const removing = svc.policies.remove('deadlock', policy.id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The delete holds `a` and waits for `b`; taking `a` now closes the cycle.
      await other('webhooks_deliveries').where({ id: a }).update({ attempts: 7 }).catch((err: unknown) => {
        otherFailed = true;
        assert.equal(registry.get(coreServices.database).isTransientConflict(err), true, String(err));
      });
      await (otherFailed ? other.rollback() : other.commit());
      assert.equal(await removing, true, 'the policy was deleted');
    } finally {
      if (!other.isCompleted()) await other.rollback();
    }
    assert.equal(await svc.policies.get('deadlock', policy.id), undefined);
    assert.equal((await knex('webhooks_deliveries').whereIn('id', [a, b])).length, 0, 'its deliveries too');
  });

  it(`${name}: a run of events fans out in one call, each event to every subscribed target once; the run again writes nothing`, async () => {
    const { policy: one } = await createPolicy(svc, 'fanrun', { name: 'one', targets: [{ address: 'http://127.0.0.1:9/x' }] });
    const { policy: two } = await createPolicy(svc, 'fanrun', { name: 'two', targets: [{ address: 'http://127.0.0.1:9/y' }, { address: 'http://127.0.0.1:9/z' }] });
    const { policy: deletes } = await createPolicy(svc, 'fanrun', { name: 'deletes only', eventTypes: ['DELETE_ARTIFACT'], targets: [{ address: 'http://127.0.0.1:9/d' }] });
    const consumer = fanoutConsumer({ enabled: true, pullEvents: true, context: { registryHost: 'registry.test' } });
    const events = [1, 2, 3].map((n) => ({
      id: `fanrun-${name}-${n}`, seq: n, type: registryEvents.manifestPushed.name, partition: 'fanrun/app', occurredAt: new Date(),
      actor: undefined, request: undefined,
      data: { repository: 'fanrun/app', digest: `sha256:${String(n).repeat(64)}`, tag: `v${n}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
    }));
    const deps = { webhooks: svc, database: registry.get(coreServices.database) };
    const ctx = { events, maxAttempts: 50, signal: new AbortController().signal, logger: registry.get(coreServices.logger) };
    const rows = async () => (await registry.get(coreServices.database).knex('webhooks_deliveries').whereIn('event_id', events.map((e) => e.id)).select('event_id', 'policy_id', 'target_index')) as Array<{ event_id: string; policy_id: unknown; target_index: unknown }>;
    const knex = registry.get(coreServices.database).knex;
    const queued = async () => (await knex('webhooks_fanouts').whereIn('event_id', events.map((e) => e.id)).count<{ n: unknown }[]>({ n: '*' }))[0]?.n;
    // The run is queued (one row per event) and the worker it woke turns it into delivery rows.
    await consumer.handleBatch!(ctx, deps);
    await svc.worker.whenIdle();
    await svc.queue.materialize(100);
    assert.equal(Number(await queued()), 0, 'nothing left in the queue');
    const written = (await rows()).map((r) => `${r.event_id}/${Number(r.policy_id)}/${Number(r.target_index)}`).sort();
    assert.deepEqual(written, events.flatMap((e) => [`${e.id}/${one.id}/0`, `${e.id}/${two.id}/0`, `${e.id}/${two.id}/1`]).sort(), 'three rows per event; the DELETE_ARTIFACT policy none');
    await consumer.handleBatch!(ctx, deps);
    await svc.worker.whenIdle();
    await svc.queue.materialize(100);
    assert.equal((await rows()).length, 9, 'delivered again after a crash, the run writes nothing twice');
    // Their receivers do not exist: remove them before the worker retries them into the next test's claims.
    for (const policy of [one, two, deletes]) assert.equal(await svc.policies.remove('fanrun', policy.id), true);
    await svc.worker.whenIdle();
  });

  it(`${name}: the queue: an event queued twice is one row; materializing writes each (event, policy, target) once, leaves out deleted policies, empties the queue`, async () => {
    const { policy: kept } = await createPolicy(svc, 'queue', { name: 'kept', targets: [{ address: 'http://127.0.0.1:9/k' }] });
    const { policy: gone } = await createPolicy(svc, 'queue', { name: 'gone', targets: [{ address: 'http://127.0.0.1:9/g' }] });
    const policies = [kept, gone].map(({ id, project, name: n, targets }) => ({ id, project, name: n, targets }));
    const event = { payload: EVENT.payload, cloudEventType: EVENT.cloudEventType, requestId: 'req-q' };
    // A worker must not take the rows before the test reads them: stop it from looking.
    await svc.worker.whenIdle();
    const before = await svc.queue.size();
    await svc.queue.add([{ eventId: `queue-${name}`, event, policies }], 5000);
    await svc.queue.add([{ eventId: `queue-${name}`, event, policies }], 5000);
    assert.equal(await svc.queue.size(), before + 1, 'queued once');
    assert.equal(await svc.policies.remove('queue', gone.id), true);
    await svc.worker.whenIdle();
    await svc.queue.materialize(100, 6000);
    assert.equal(await svc.queue.size(), 0);
    const made = (await registry.get(coreServices.database).knex('webhooks_deliveries').where('event_id', `queue-${name}`)) as Array<{ id: string; policy_id: unknown; created_at: unknown }>;
    assert.deepEqual(made.map((r) => Number(r.policy_id)), [kept.id], 'the deleted policy gets nothing');
    assert.equal(Number(made[0]?.created_at), 5000, 'in the history at the time it was queued');
    const delivery = await svc.deliveries.get(made[0]!.id);
    assert.equal(delivery?.event.source, `/projects/queue/webhook/policies/${kept.id}`);
    assert.equal(delivery?.event.policyName, 'kept');
    assert.equal(delivery?.event.requestId, 'req-q');
    // Materializing the same event again (a second node that read the queue at the same time) writes nothing new.
    await svc.queue.add([{ eventId: `queue-${name}`, event, policies }], 5000);
    await svc.worker.whenIdle();
    await svc.queue.materialize(100, 7000);
    assert.equal((await registry.get(coreServices.database).knex('webhooks_deliveries').where('event_id', `queue-${name}`)).length, 1);
    assert.equal(await svc.policies.remove('queue', kept.id), true);
  });

  it(`${name}: a queued event that cannot become deliveries does not stop the ones behind it, is tried later and later, then set aside`, async () => {
    const { policy } = await createPolicy(svc, 'poison', { targets: [{ address: 'http://127.0.0.1:9/p' }] });
    const knex = registry.get(coreServices.database).knex;
    await svc.worker.whenIdle();
    // A row no worker can read (it cannot happen through the fan-out; a stand-in for any write that keeps failing).
    // Both due 10 s from now on the test's clock: the running worker (on the real one) leaves them to the test.
    const now = Date.now() + 10_000;
    await knex('webhooks_fanouts').insert({ event_id: `poison-${name}`, event: '{not json', policies: '[]', created_at: 1, next_try_at: now });
    const event = { payload: EVENT.payload, cloudEventType: EVENT.cloudEventType, requestId: undefined };
    await svc.queue.add([{ eventId: `after-poison-${name}`, event, policies: [{ id: policy.id, project: 'poison', name: policy.name, targets: policy.targets }] }]);
    await knex('webhooks_fanouts').where('event_id', `after-poison-${name}`).update({ next_try_at: now });
    const stuck: StuckEvent[] = [];
    const previous = svc.queue.onStuck;
    svc.queue.onStuck = (s) => stuck.push(s);
    const poison = async () => (await knex('webhooks_fanouts').where('event_id', `poison-${name}`).first()) as { attempts: unknown; next_try_at: unknown; last_error: string } | undefined;
    try {
      await svc.worker.whenIdle();
      assert.equal(await svc.queue.materialize(16, now), 1, 'the good event was taken');
      assert.equal((await knex('webhooks_deliveries').where('event_id', `after-poison-${name}`)).length, 1, 'the event behind it became its delivery');
      assert.equal(stuck.length, 1, 'the bad one is reported');
      assert.equal(stuck[0]?.eventId, `poison-${name}`);
      assert.equal(stuck[0]?.attempts, 1);
      assert.equal(stuck[0]?.setAside, false);
      assert.equal(stuck[0]?.nextTryAt, now + 1000, 'tried again in a second');
      const row = await poison();
      assert.equal(Number(row?.attempts), 1, 'it stays queued, nothing is dropped');
      assert.match(String(row?.last_error), /JSON/, 'with its error');
      // Not due yet: the next look does not try it (nor report it) again.
      await svc.worker.whenIdle();
      assert.equal(await svc.queue.materialize(16, now + 500), 0);
      assert.equal(stuck.length, 1);
      // Alone in the queue it is tried when due, each time later, until it is set aside.
      let at = now;
      for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
        at = stuck.at(-1)?.nextTryAt ?? Number.NaN;
        await svc.worker.whenIdle();
        assert.equal(await svc.queue.materialize(16, at), 0);
        assert.equal(stuck.length, attempt, `try ${attempt} reported`);
      }
      const last = stuck.at(-1);
      assert.equal(last?.setAside, true, `set aside after ${MAX_ATTEMPTS} tries`);
      assert.equal(last?.nextTryAt, undefined);
      assert.ok((stuck.at(-2)?.nextTryAt ?? 0) - (stuck.at(-3)?.nextTryAt ?? 0) > 60_000, 'the waits grew');
      await svc.worker.whenIdle();
      assert.equal(await svc.queue.materialize(16, at + 365 * 86_400_000), 0, 'never tried again on its own');
      assert.equal(stuck.length, MAX_ATTEMPTS);
      const counts = await svc.queue.counts();
      assert.deepEqual({ waiting: counts.waiting, setAside: counts.setAside }, { waiting: 0, setAside: 1 });
      assert.equal(counts.queued, await svc.queue.size());
      assert.equal(Number((await poison())?.attempts), MAX_ATTEMPTS, 'still in the table for an operator');
    } finally {
      svc.queue.onStuck = previous;
    }
    await knex('webhooks_fanouts').where('event_id', `poison-${name}`).delete();
    const after = await svc.queue.counts();
    assert.deepEqual({ waiting: after.waiting, setAside: after.setAside }, { waiting: 0, setAside: 0 });
    assert.equal(await svc.policies.remove('poison', policy.id), true);
  });

  it(`${name}: outcomes written in one batch: each row as its holder left it, a stale holder's outcome ignored`, async () => {
    const { policy } = await createPolicy(svc, 'batched', { targets: [{ address: 'http://127.0.0.1:9/a' }, { address: 'http://127.0.0.1:9/b' }, { address: 'http://127.0.0.1:9/c' }] });
    const rows = policy.targets.map((target, targetIndex) => ({ policyId: policy.id, eventId: 'event-batch', targetIndex, target, event: EVENT }));
    const ids = await svc.deliveries.enqueue(rows, 1000);
    const picked = await svc.deliveries.dueIds(1500, 10);
    assert.deepEqual(picked.filter((p) => ids.includes(p.id)).map((p) => p.policyId), [policy.id, policy.id, policy.id], 'ids and policies of due rows');
    const claimed = await svc.deliveries.claimMany(ids, 'batch:1', 2000, 10_000);
    assert.equal(claimed.length, 3);
    const [a, b, c] = ids as [string, string, string];
    await svc.deliveries.finishMany([
      { id: a, holder: 'batch:1', attempt: 1, outcome: { ok: true, responseCode: 200, durationMs: 5, error: undefined }, retryAt: undefined },
      { id: b, holder: 'batch:1', attempt: 1, outcome: { ok: false, responseCode: 500, durationMs: 6, error: 'receiver answered 500' }, retryAt: 9000 },
      { id: c, holder: 'someone-else', attempt: 1, outcome: { ok: true, responseCode: 200, durationMs: 7, error: undefined }, retryAt: undefined },
    ], 3000);
    assert.equal((await svc.deliveries.get(a))?.status, 'succeeded');
    const retry = await svc.deliveries.get(b);
    assert.deepEqual([retry?.status, retry?.nextAttemptAt, retry?.responseCode], ['pending', 9000, 500]);
    assert.equal((await svc.deliveries.get(c))?.status, 'running', 'not its holder: nothing written');
    assert.equal(await svc.policies.remove('batched', policy.id), true);
  });

  it(`${name}: a push is delivered, signed`, async () => {
    const { secret } = await createPolicy(svc, 'deliver', { targets: [{ address: receiver.url }] });
    await pushImage(registry.url, 'deliver/app', 'v1', tinyImage({ text: name }));
    const [got] = await receiver.waitFor(1);
    assert.equal(got!.json.type, 'PUSH_ARTIFACT');
    assert.ok(verifySignature(secret, got!.headers['webhook-signature'] as string, got!.body));
  });
});
