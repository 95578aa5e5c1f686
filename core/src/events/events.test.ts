import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineEventType, registryEvents, type DeliveryContext, type EventConsumer, type EventEnvelope } from '@wharf/sdk';
import type { Knex } from 'knex';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { manifestInput, openStore, silentLogger } from '../metadata/test-support.js';
import { KnexMetadataStore } from '../metadata/knex-metadata-store.js';
import type { MetadataStore } from '../metadata/types.js';
import type { EventsSettings } from '../config/types.js';
import { createEventsRuntime, type EventsRuntime } from './events-runtime.js';
import { createJobRuntime } from '../jobs/index.js';
import { recordPullsSqlite } from '../metadata/pulls.js';
import { dialectOf } from '../metadata/connection.js';

// The outbox and its delivery on each real database: what commits is delivered, what rolls
// back is not; order per partition; retries, dead events and their retry; several nodes
// sharing one database; a node that dies mid-delivery; retention.

const thing = defineEventType<{ n: number }>('test.thing.happened');
const other = defineEventType<{ n: number }>('test.other.happened');
const unheard = defineEventType<{ n: number }>('nobody.listens.here');

// Leases long enough that a busy CI machine never lets one lapse mid-delivery (that would be a
// legitimate redelivery, and the two-node test counts deliveries); the lease test sets its own.
const SETTINGS: EventsSettings = { pollIntervalMs: 20, leaseSeconds: 30, maxAttempts: 3, retentionHours: 1, deadRetentionHours: 2, pullBatchSize: 50, pullFlushMs: 0 };

interface Node {
  runtime: EventsRuntime;
  seen: EventEnvelope[];
}

function node(knex: Knex, consumers: Array<Omit<EventConsumer, 'handle'> & { handle?: (d: DeliveryContext) => Promise<void> }>, settings = SETTINGS): Node {
  const runtime = createEventsRuntime({ knex: () => knex, settings, logger: silentLogger });
  const seen: EventEnvelope[] = [];
  for (const c of consumers) {
    runtime.service.subscribe({
      ...c,
      handle: async (d) => {
        await c.handle?.(d);
        seen.push(d.event);
      },
    });
  }
  return { runtime, seen };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const draft = (n: number, partition = 'p1') => ({ type: thing, partition, data: { n }, actor: { subject: 'alice', kind: 'user' as const, provider: 'db' } });

forEachDatabase((_name, create) => {
  let store: MetadataStore;
  let knex: Knex;
  const started: EventsRuntime[] = [];

  before(async () => {
    store = openStore((await create()).config);
    await store.migrate();
    knex = (store as KnexMetadataStore).knex;
  });
  after(async () => {
    for (const r of started) await r.stop();
    await store.close();
  });

  const jobs = () => createJobRuntime({
    settings: { backend: 'embedded', redis: { prefix: 'wharf' }, leaseSeconds: 30, pollIntervalMs: 1000, stopTimeoutMs: 1000, history: { keep: 10, maxAgeDays: 1 } },
    logger: silentLogger,
    knex: () => knex,
  });

  async function start(n: Node): Promise<Node> {
    await n.runtime.start(jobs());
    started.push(n.runtime);
    return n;
  }

  it('delivers what commits with its transaction and nothing of what rolls back', async () => {
    const n = await start(node(knex, [{ name: 'tx', types: [thing] }]));
    await knex.transaction(async (trx) => {
      await n.runtime.service.publish(draft(1, 'tx'), { transaction: trx });
    });
    await assert.rejects(knex.transaction(async (trx) => {
      await n.runtime.service.publish(draft(2, 'tx'), { transaction: trx });
      throw new Error('the change failed');
    }), /the change failed/);
    await n.runtime.service.publish(draft(3, 'tx'));
    await until('two deliveries', () => n.seen.length === 2);
    await sleep(200);
    assert.deepEqual(n.seen.map((e) => (e.data as { n: number }).n), [1, 3]);
    const first = n.seen[0]!;
    assert.equal(first.type, 'test.thing.happened');
    assert.equal(first.partition, 'tx');
    assert.deepEqual(first.actor, { subject: 'alice', kind: 'user', provider: 'db' });
    assert.match(first.id, /^[0-9a-f-]{36}$/);
    await n.runtime.stop();
  });

  it('stores no event of a type nobody subscribes to, and matches `area.*` patterns', async () => {
    const n = await start(node(knex, [{ name: 'pattern', types: ['test.*'] }]));
    assert.equal(n.runtime.service.hasSubscribers(unheard), false);
    assert.equal(n.runtime.service.hasSubscribers(other), true);
    const before = Number(((await knex('events').count({ c: '*' })) as Array<{ c: unknown }>)[0]!.c);
    await n.runtime.service.publish([{ type: unheard, partition: 'x', data: { n: 1 } }, { type: other, partition: 'x', data: { n: 2 } }]);
    const afterCount = Number(((await knex('events').count({ c: '*' })) as Array<{ c: unknown }>)[0]!.c);
    assert.equal(afterCount - before, 1);
    await until('the other event', () => n.seen.some((e) => e.type === 'test.other.happened'));
    await n.runtime.stop();
  });

  it('keeps order within a partition while a failing event retries, and lets other partitions pass', async () => {
    let failuresLeft = 2;
    const n = await start(node(knex, [{
      name: 'ordered', types: [thing], backoffMs: 100, maxAttempts: 5,
      handle: async ({ event }) => {
        if ((event.data as { n: number }).n === 10 && failuresLeft-- > 0) throw new Error('receiver down');
      },
    }]));
    await n.runtime.service.publish([draft(10, 'a'), draft(11, 'a'), draft(12, 'a'), draft(20, 'b'), draft(21, 'b')]);
    await until('partition b', () => n.seen.filter((e) => e.partition === 'b').length === 2);
    assert.equal(n.seen.filter((e) => e.partition === 'a').length, 0, 'partition a waits for its failing head');
    await until('partition a', () => n.seen.filter((e) => e.partition === 'a').length === 3);
    assert.deepEqual(n.seen.filter((e) => e.partition === 'a').map((e) => (e.data as { n: number }).n), [10, 11, 12]);
    await n.runtime.stop();
  });

  it('hands a run of first attempts to handleBatch in order; a failed batch retries its first event alone through handle', async () => {
    const batches: number[][] = [];
    const single: number[] = [];
    let failBatch = true;
    const runtime = createEventsRuntime({ knex: () => knex, settings: SETTINGS, logger: silentLogger });
    runtime.service.subscribe({
      name: 'batched', types: [thing], backoffMs: 50,
      handle: async ({ event, attempt }) => { single.push((event.data as { n: number }).n * 10 + attempt); },
      handleBatch: async ({ events }) => {
        if (failBatch) { failBatch = false; throw new Error('batch refused'); }
        batches.push(events.map((e) => (e.data as { n: number }).n));
      },
    });
    await runtime.service.publish([1, 2, 3, 4].map((n) => draft(n, 'batch')));
    await runtime.start(jobs());
    started.push(runtime);
    await until('all four', () => single.length + batches.flat().length === 4);
    // The failed batch was the first event's attempt 1: it comes back alone (attempt 2) through
    // handle, and the three after it, never tried, as a batch.
    assert.deepEqual(single, [12]);
    assert.deepEqual(batches, [[2, 3, 4]]);
    // Marked delivered after the handlers returned (on SQLite with the next batch of writes).
    await until('marked delivered', async () => (await runtime.store.count('batched', 'delivered')) === 4);
    const rows = (await knex('event_deliveries').where({ consumer: 'batched' }).select('status', 'attempts')) as Array<{ status: string; attempts: unknown }>;
    assert.deepEqual(rows.map((r) => [r.status, Number(r.attempts)]).sort(), [['delivered', 1], ['delivered', 1], ['delivered', 1], ['delivered', 2]]);
    await runtime.stop();
  });

  it('delivers a busy partition in runs, and resumes a run at the event that failed', async () => {
    let failOnce = true;
    const n = await start(node(knex, [{
      name: 'runs', types: [thing], backoffMs: 50,
      handle: async ({ event }) => {
        if ((event.data as { n: number }).n === 125 && failOnce) { failOnce = false; throw new Error('hiccup'); }
      },
    }]));
    await n.runtime.service.publish(Array.from({ length: 150 }, (_, i) => draft(100 + i, 'hot')));
    await until('150 deliveries', () => n.seen.filter((e) => e.partition === 'hot').length === 150);
    await until('marked delivered', async () => (await n.runtime.store.count('runs', 'delivered')) === 150);
    assert.deepEqual(n.seen.filter((e) => e.partition === 'hot').map((e) => (e.data as { n: number }).n), Array.from({ length: 150 }, (_, i) => 100 + i));
    const delivered = await n.runtime.store.list('runs', 'delivered', { limit: 200 });
    assert.equal(delivered.length, 150);
    // The failed one took two attempts; the ones after it were handed back untried and count one.
    const attempts = new Map(delivered.map((d) => [d.seq, d.attempts]));
    const seqs = [...attempts.keys()].sort((a, b) => a - b);
    assert.equal(attempts.get(seqs[25]!), 2);
    assert.ok(seqs.filter((seq, i) => i !== 25).every((seq) => attempts.get(seq) === 1), 'one attempt each for the others');
    await n.runtime.stop();
  });

  it('marks an event dead after its attempts, shows it in the status, and redelivers it on retry', async () => {
    let broken = true;
    const n = await start(node(knex, [{
      name: 'dying', types: [thing], backoffMs: 20, maxAttempts: 2,
      handle: async () => { if (broken) throw new Error('always fails'); },
    }]));
    await n.runtime.service.publish(draft(30, 'dead'));
    await until('dead', async () => (await n.runtime.service.consumers()).find((c) => c.name === 'dying')?.dead === 1);
    const status = (await n.runtime.service.consumers()).find((c) => c.name === 'dying')!;
    assert.equal(status.lastError, 'always fails');
    assert.equal(status.pending, 0);
    const dead = await n.runtime.store.list('dying', 'dead', { limit: 10 });
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.attempts, 2);
    // A dead event blocks nothing behind it.
    broken = false;
    await n.runtime.service.publish(draft(31, 'dead'));
    await until('the next event', () => n.seen.length === 1);
    assert.equal(await n.runtime.store.retryDead('dying'), 1);
    n.runtime.wake();
    await until('the retried event', () => n.seen.length === 2);
    assert.deepEqual(n.seen.map((e) => (e.data as { n: number }).n), [31, 30]);
    await n.runtime.stop();
  });

  it('two nodes on one database handle each event once per consumer, in order per partition', async () => {
    const handled: string[] = [];
    const consumer = (who: string) => ({ name: 'shared', types: [thing], concurrency: 3, handle: async ({ event }: DeliveryContext) => { handled.push(`${who}:${event.id}`); await sleep(2); } });
    const a = await start(node(knex, [consumer('a')]));
    const b = await start(node(knex, [consumer('b')]));
    const drafts = Array.from({ length: 60 }, (_, i) => draft(i, `repo-${i % 6}`));
    for (let i = 0; i < drafts.length; i += 10) await (i % 20 === 0 ? a : b).runtime.service.publish(drafts.slice(i, i + 10));
    await until('60 deliveries', () => a.seen.length + b.seen.length === 60, 30_000);
    await sleep(300);
    const ids = handled.map((h) => h.split(':')[1]);
    assert.equal(new Set(ids).size, 60, 'every event once');
    assert.equal(ids.length, 60, 'no event twice');
    assert.ok(a.seen.length > 0 && b.seen.length > 0, `both nodes worked (a ${a.seen.length}, b ${b.seen.length})`);
    for (let p = 0; p < 6; p++) {
      const order = [...a.seen, ...b.seen].filter((e) => e.partition === `repo-${p}`).sort((x, y) => x.seq - y.seq);
      const byHandling = handled.map((h) => h.split(':')[1]).filter((id) => order.some((e) => e.id === id));
      assert.deepEqual(byHandling, order.map((e) => e.id), `partition repo-${p} handled in order`);
    }
    await a.runtime.stop();
    await b.runtime.stop();
  });

  it('retries a delivery whose node died holding it, once the lease ends', async () => {
    const n = node(knex, [{ name: 'orphaned', types: [thing] }], { ...SETTINGS, leaseSeconds: 1 });
    await n.runtime.service.publish(draft(40, 'lease'));
    // A node claims the delivery and dies without finishing or handing it back.
    const [head] = await n.runtime.store.candidates('orphaned', 1);
    assert.ok(head !== undefined);
    assert.ok(await n.runtime.store.claim('orphaned', head.seq, 'dead-node', 1000));
    await start(n);
    await sleep(300);
    assert.equal(n.seen.length, 0, 'not before the lease ends');
    await until('redelivery', () => n.seen.length === 1, 10_000);
    // Marked delivered once the handler returned.
    await until('delivered', async () => (await n.runtime.store.list('orphaned', 'delivered', { limit: 1 })).length === 1);
    const delivered = await n.runtime.store.list('orphaned', 'delivered', { limit: 1 });
    assert.equal(delivered[0]!.attempts, 2);
    await n.runtime.stop();
  });

  it('records identical pulls of one batch as one event with their count, and different ones apart', async () => {
    const n = await start(node(knex, [{ name: 'pulls', types: [registryEvents.artifactPulled] }]));
    const pull = (ip: string) => ({
      type: registryEvents.artifactPulled, partition: 'lib/hot',
      data: { repository: 'lib/hot', digest: 'sha256:' + 'a'.repeat(64), reference: 'v1', mediaType: 'application/vnd.oci.image.manifest.v1+json', count: 1 },
      actor: { subject: 'robot$ci', kind: 'robot' as const, provider: 'projects' },
      request: { requestId: `r-${ip}-${Math.random()}`, ip, userAgent: 'containerd/1.7' },
    });
    // Twenty identical pulls and one from another address, all while one batch is open.
    await Promise.all([...Array.from({ length: 20 }, () => n.runtime.recordPull(pull('10.0.0.1'))), n.runtime.recordPull(pull('10.0.0.2'))]);
    await until('two events', () => n.seen.filter((e) => e.type === 'registry.artifact.pulled').length === 2);
    await sleep(200);
    const counts = n.seen.filter((e) => e.type === 'registry.artifact.pulled').map((e) => [e.request?.ip, (e.data as { count: number }).count]);
    assert.deepEqual(counts.sort(), [['10.0.0.1', 20], ['10.0.0.2', 1]]);
    await n.runtime.stop();
  });

  it("commits a batch's pull events and its pull times together: a failed time write leaves no event", async () => {
    const input = manifestInput('lib/timed', 'pull times and events together');
    assert.deepEqual(await store.putManifest(input), { ok: true, created: true });
    let failTimes = true;
    const runtime = createEventsRuntime({
      knex: () => knex,
      settings: SETTINGS,
      logger: silentLogger,
      pullTimes: async (pulls, trx) => {
        assert.ok(trx?.isTransaction, 'a batch with events hands its transaction to the times');
        await store.recordPulls(pulls, trx);
        if (failTimes) throw new Error('the pull times could not be written');
      },
    });
    runtime.service.subscribe({ name: 'timed-pulls', types: [registryEvents.artifactPulled], handle: async () => undefined });
    const pull = {
      type: registryEvents.artifactPulled, partition: 'lib/timed',
      data: { repository: 'lib/timed', digest: input.digest, reference: 'v1', mediaType: input.mediaType, count: 1 },
    };
    const stored = async () => (await knex('events').where({ type: 'registry.artifact.pulled', partition_key: 'lib/timed' }).count({ n: '*' }))[0]!['n'];
    await assert.rejects(async () => runtime.recordPull(pull), /pull times could not be written/);
    assert.equal(Number(await stored()), 0, 'the event rolled back with the times');
    assert.equal((await store.getArtifact('lib/timed', input.digest))?.pulledAt, undefined);
    failTimes = false;
    await runtime.recordPull(pull);
    assert.equal(Number(await stored()), 1);
    assert.ok((await store.getArtifact('lib/timed', input.digest))?.pulledAt instanceof Date);
    await runtime.stop();
  });

  it('buffers pulls when pullFlushMs > 0: the pull does not wait, the buffer is written after the interval, and stop writes what is left', async () => {
    const input = manifestInput('lib/buffered', 'buffered pulls');
    assert.deepEqual(await store.putManifest(input), { ok: true, created: true });
    const runtime = createEventsRuntime({
      knex: () => knex,
      settings: { ...SETTINGS, pullFlushMs: 150 },
      logger: silentLogger,
      pullTimes: (pulls, trx) => store.recordPulls(pulls, trx),
      pullTimesSqlite: recordPullsSqlite,
    });
    runtime.service.subscribe({ name: 'buffered-pulls', types: [registryEvents.artifactPulled], handle: async () => undefined });
    const pull = (reference: string) => ({
      type: registryEvents.artifactPulled, partition: 'lib/buffered',
      data: { repository: 'lib/buffered', digest: input.digest, reference, mediaType: input.mediaType, count: 1 },
    });
    const counts = async () =>
      ((await knex('events').where({ type: 'registry.artifact.pulled', partition_key: 'lib/buffered' }).select('body')) as Array<{ body: string }>)
        .map((r) => (JSON.parse(r.body) as { data: { count: number } }).data.count);
    assert.equal(runtime.recordPull(pull('v1')), undefined, 'a buffered pull gives nothing to wait for');
    runtime.recordPull(pull('v1'));
    assert.deepEqual(await counts(), [], 'not written before the interval');
    // Written once the interval passed; a loaded database may take longer than the interval to answer.
    for (const deadline = Date.now() + 10_000; (await counts()).length === 0 && Date.now() < deadline; ) await sleep(50);
    assert.deepEqual(await counts(), [2], 'written after the interval, identical pulls as one event');
    assert.ok((await store.getArtifact('lib/buffered', input.digest))?.pulledAt instanceof Date);
    const deliveries = await knex('event_deliveries').where({ consumer: 'buffered-pulls' }).count({ n: '*' });
    assert.equal(Number(deliveries[0]!['n']), 1, 'one delivery for the subscribed consumer');
    runtime.recordPull(pull('v2'));
    await runtime.stop();
    assert.deepEqual((await counts()).sort(), [1, 2], 'stop wrote the buffered pull');
  });

  it("hands a pull batch's events to this node's consumers in order; on SQLite the batch claims them and carries finished runs' completions, so no claim of their own", async () => {
    const input = manifestInput('lib/inline', 'pulls claimed by their batch');
    assert.deepEqual(await store.putManifest(input), { ok: true, created: true });
    const runtime = createEventsRuntime({
      knex: () => knex,
      settings: SETTINGS,
      logger: silentLogger,
      pullTimes: (pulls, trx) => store.recordPulls(pulls, trx),
      pullTimesSqlite: recordPullsSqlite,
    });
    const handled: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    runtime.service.subscribe({
      name: 'inline-pulls',
      types: [registryEvents.artifactPulled],
      handle: async ({ event }) => {
        const reference = (event.data as { reference: string }).reference;
        handled.push(reference);
        if (reference === 'slow') await gate;
      },
    });
    await runtime.start(jobs());
    started.push(runtime);
    const pull = (reference: string) => runtime.recordPull({
      type: registryEvents.artifactPulled, partition: 'lib/inline',
      data: { repository: 'lib/inline', digest: input.digest, reference, mediaType: input.mediaType, count: 1 },
    });
    const statusOf = async (reference: string) => {
      const rows = (await knex('event_deliveries as d').join('events as e', 'e.seq', 'd.seq')
        .where({ 'd.consumer': 'inline-pulls' }).select('d.status', 'd.attempts', 'e.body')) as Array<{ status: string; attempts: unknown; body: string }>;
      const row = rows.find((r) => (JSON.parse(r.body) as { data: { reference: string } }).data.reference === reference);
      return row && { status: row.status, attempts: Number(row.attempts) };
    };
    const sqlite = dialectOf(knex) === 'sqlite';
    await pull('v1');
    if (sqlite) {
      assert.deepEqual(handled, ['v1'], 'the consumer had the pull when its batch was written: the batch claimed it');
      assert.deepEqual(await statusOf('v1'), { status: 'running', attempts: 1 });
    }
    await pull('v2');
    if (sqlite) {
      assert.deepEqual(handled, ['v1', 'v2'], 'the next batch found the partition free and claimed its pull too');
      assert.equal((await statusOf('v1'))?.status, 'delivered');
    }
    await pull('slow');
    await until('the slow pull handled', () => handled.includes('slow'));
    await pull('v3');
    if (sqlite) assert.equal((await statusOf('v3'))?.status, 'pending', 'a run of the partition is under way: the pull waits for the loop, in order');
    release();
    await until('all four delivered', async () => (await Promise.all(['v1', 'v2', 'slow', 'v3'].map(statusOf))).every((s) => s?.status === 'delivered'));
    assert.deepEqual(handled, ['v1', 'v2', 'slow', 'v3']);
    await runtime.stop();
  });

  it('purges delivered and dead deliveries past retention, and events no one still needs', async () => {
    // A database of its own: the other tests' deliveries would be purged too.
    const own = openStore((await create()).config);
    await own.migrate();
    const knex = (own as KnexMetadataStore).knex;
    let clock = Date.now();
    const runtime = createEventsRuntime({ knex: () => knex, settings: SETTINGS, logger: silentLogger, now: () => clock });
    runtime.service.subscribe({ name: 'retained', types: [other], handle: async () => undefined });
    await runtime.service.publish([{ type: other, partition: 'r', data: { n: 1 } }, { type: other, partition: 'r2', data: { n: 2 } }]);
    const [s1, s2] = (await runtime.store.candidates('retained', 5)).map((c) => c.seq);
    assert.ok(await runtime.store.claim('retained', s1!, 'me', 1000));
    assert.equal(await runtime.store.completeRun('retained', [s1!], 'me'), 1);
    const hour = 3_600_000;
    clock += 3 * hour;
    const purged = await runtime.store.purge({ delivered: clock - hour, dead: clock - 2 * hour }, 1);
    assert.equal(purged.deliveries, 1);
    assert.equal(purged.events, 1);
    const left = (await knex('event_deliveries').where('consumer', 'retained').select('seq', 'status')) as Array<{ seq: unknown; status: string }>;
    assert.deepEqual(left.map((r) => [Number(r.seq), r.status]), [[s2, 'pending']], 'the undelivered one stays');
    assert.ok(await knex('events').where('seq', s2!).first(), 'its event stays');
    await own.close();
  });
});

describe('event consumers are checked when they subscribe', () => {
  const runtime = createEventsRuntime({ knex: () => { throw new Error('no database needed'); }, settings: SETTINGS, logger: silentLogger });
  it('refuses bad names, duplicates, empty type lists, and subscriptions after start', async () => {
    const ok = { name: 'fine', types: [thing], handle: async () => undefined };
    assert.throws(() => runtime.service.subscribe({ ...ok, name: 'Not Kebab' }), /REG_ERR|kebab-case/);
    assert.throws(() => runtime.service.subscribe({ ...ok, types: [] }), /at least one event type/);
    runtime.service.subscribe(ok);
    assert.throws(() => runtime.service.subscribe(ok), /subscribed twice/);
    runtime.subscriptions.seal();
    assert.throws(() => runtime.service.subscribe({ ...ok, name: 'late' }), (err: Error & { code?: string }) => err.code === 'REG_ERR_PLUGIN_SEALED');
  });
});
