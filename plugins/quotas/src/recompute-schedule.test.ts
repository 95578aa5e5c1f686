import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { coreServices } from '@wharf/sdk';
import { forEachDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { TABLES } from './migrations.js';
import { claimRecompute, RECOMPUTE_JOB, RECOMPUTE_SCHEDULE, recomputeCron } from './recompute-schedule.js';
import { quotasServiceRef } from './services.js';
import { admin, bootRegistry, call, eventually } from './test-support.js';

/**
 * The periodic recompute of every project's usage is a scheduled job that one node at a time
 * runs (before, every node ran it on its own timer): the schedule is stored once for all nodes,
 * and of two nodes running the job at once only one recomputes.
 */

describe('recomputeCron', () => {
  it('ticks often enough for the interval, and never more than every 10 s', () => {
    assert.equal(recomputeCron(10), '*/10 * * * * *');
    assert.equal(recomputeCron(45), '*/30 * * * * *');
    assert.equal(recomputeCron(300), '0 * * * * *');
    assert.equal(recomputeCron(3600), '0 */10 * * * *');
  });
});

forEachDatabase((name, create) => {
  describe(`the periodic recompute on ${name}, two nodes`, () => {
    let a: TestRegistry;
    let b: TestRegistry;
    const drop: Array<() => Promise<void>> = [];
    before(async () => {
      const db = await create();
      drop.push(() => db.drop());
      const quotas = { reconcile: { intervalSeconds: 3600, settleSeconds: 0 } };
      a = await bootRegistry(db, { quotas });
      b = await bootRegistry(db, { quotas });
      assert.equal((await call(a.url, 'POST', '/api/v1/projects', { auth: admin, body: { name: 'drift' } })).status, 201);
    });
    after(async () => {
      await b?.close();
      await a?.close();
      for (const d of drop) await d();
    });

    it('is one stored schedule, not a timer per node', async () => {
      const { knex } = a.get(coreServices.database);
      const rows = (await knex('job_schedules').select('*')) as Record<string, unknown>[];
      const ours = rows.filter((r) => Object.values(r).includes(RECOMPUTE_SCHEDULE));
      assert.equal(ours.length, 1, JSON.stringify(rows));
      assert.ok(Object.values(ours[0]!).includes('0 */10 * * * *'));
    });

    it('lets one of two nodes claim a recompute, and the next only after the interval', async () => {
      const stores = [a.get(quotasServiceRef).store, b.get(quotasServiceRef).store];
      const now = Date.now() + 10_000_000;
      const claims = await Promise.all([...stores, ...stores].map((s) => claimRecompute(s, 3_600_000, now)));
      assert.equal(claims.filter(Boolean).length, 1, JSON.stringify(claims));
      assert.equal(await claimRecompute(stores[1]!, 3_600_000, now + 1000), false, 'within the interval');
      assert.equal(await claimRecompute(stores[1]!, 3_600_000, now + 3_600_000), true, 'once it passed');
    });

    it('runs the job on both nodes at once: one recomputes (and corrects a drifted usage), the other skips', async () => {
      const { knex } = a.get(coreServices.database);
      await a.get(quotasServiceRef).store.ensure('drift');
      await knex(TABLES.projects).where({ project: 'drift' }).update({ storage_used: 12345 });
      // Due again: the last start an interval ago.
      await knex(TABLES.meta).where({ name: 'recompute_started_at' }).update({ value: String(Date.now() - 3_600_001) });
      const ids = await Promise.all([a, b].map((node) => node.get(coreServices.jobs).enqueue(RECOMPUTE_JOB, {})));
      const jobs = a.get(coreServices.jobs);
      await eventually('both jobs finished', async () => {
        const records = await Promise.all(ids.map((id) => jobs.get(id)));
        return records.every((r) => r?.status === 'succeeded') ? true : undefined;
      });
      const logs = await Promise.all(ids.map(async (id) => (await jobs.log(id)).map((l) => l.message).join('\n')));
      assert.equal(logs.filter((l) => /recomputed the usage of \d+ projects/.test(l)).length, 1, JSON.stringify(logs));
      assert.equal((await a.get(quotasServiceRef).store.get('drift'))?.storageUsed, 0, 'the drift was corrected');
    });
  });
});
