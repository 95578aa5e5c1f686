import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { coreServices } from '@wharf/sdk';
import { createTestKernel, forEachDatabase, type TestKernel } from '@wharf/sdk-testing';
import { auditPlugin } from './index.js';
import { purgeEntries, rulesOf, PurgeHistory } from './purge.js';
import { auditServiceRef, type AuditService } from './service.js';
import { entry } from './test-support.js';

/**
 * The store and the purge on each database: filters, keyset pages across equal times, an
 * idempotent insert, and retention rules deleting exactly what they govern, in batches.
 */

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 1);

forEachDatabase((_name, create) => {
  let kernel: TestKernel;
  let audit: AuditService;

  before(async () => {
    const db = await create();
    kernel = await createTestKernel({ config: { database: { ...db.config }, logging: { audit: { purge: { schedule: null } } } }, plugins: [auditPlugin] });
    audit = kernel.get(auditServiceRef);
  });
  after(() => kernel?.close());

  describe('queries', () => {
    before(async () => {
      const t = (h: number) => new Date(NOW - h * HOUR);
      const same = t(5);
      await audit.store.insert([
        entry({ time: t(1), resource: 'lib/app@sha256:01', actor: 'bob' }),
        entry({ time: t(2), operation: 'pull', resource: 'lib/app@sha256:01', count: 7 }),
        entry({ time: t(3), operation: 'create', resourceType: 'tag', resource: 'lib/app:v1' }),
        entry({ time: t(4), resource: 'Lib/app@sha256:02', project: 'Lib' }),
        entry({ time: same, resource: 'other/x@sha256:03', project: 'other', actor: 'robot$ci', actorKind: 'robot', actorProvider: 'projects' }),
        entry({ time: same, resource: 'other/y@sha256:04', project: 'other' }),
        entry({ time: same, operation: 'login', resourceType: 'user', resource: 'mallory', actor: 'mallory', actorKind: null, actorProvider: null, project: null, result: 'failure' }),
        entry({ time: t(9), resource: 'lib/app_x@sha256:05' }),
      ]);
    });

    const resources = async (filter: Parameters<AuditService['store']['page']>[0]) => (await audit.store.page(filter, 100)).items.map((e) => e.resource);

    it('reads newest first and narrows on each filter, names byte-wise', async () => {
      const all = (await audit.store.page({}, 100)).items;
      assert.equal(all.length, 8);
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.time >= all[i]!.time);
      assert.deepEqual(await resources({ project: 'lib' }), ['lib/app@sha256:01', 'lib/app@sha256:01', 'lib/app:v1', 'lib/app_x@sha256:05']);
      assert.deepEqual(await resources({ project: 'Lib' }), ['Lib/app@sha256:02']);
      assert.deepEqual(await resources({ actor: 'bob' }), ['lib/app@sha256:01']);
      assert.deepEqual(await resources({ operation: 'pull' }), ['lib/app@sha256:01']);
      assert.equal((await audit.store.page({ operation: 'pull' }, 1)).items[0]!.count, 7);
      assert.deepEqual(await resources({ resourceType: 'tag' }), ['lib/app:v1']);
      assert.deepEqual(await resources({ result: 'failure' }), ['mallory']);
      // A prefix, not a pattern: `_` is a character, and case counts (SQLite's LIKE would not care).
      assert.deepEqual(await resources({ resource: 'lib/app_' }), ['lib/app_x@sha256:05']);
      assert.deepEqual(await resources({ resource: 'lib/app@' }), ['lib/app@sha256:01', 'lib/app@sha256:01']);
      assert.deepEqual(await resources({ resource: 'LIB/' }), []);
      assert.deepEqual(await resources({ from: NOW - 3 * HOUR, to: NOW - HOUR }), ['lib/app@sha256:01', 'lib/app:v1']);
      assert.deepEqual(await resources({ project: 'lib', actor: 'alice', operation: 'push' }), ['lib/app_x@sha256:05']);
    });

    it('pages by keyset, also through entries of the same millisecond, with no gap or repeat', async () => {
      const seen: number[] = [];
      let cursor;
      for (let pages = 0; pages < 10; pages++) {
        const page = await audit.store.page({}, 3, cursor);
        seen.push(...page.items.map((e) => e.id));
        if (!page.next) break;
        cursor = page.next;
      }
      const all = (await audit.store.page({}, 100)).items.map((e) => e.id);
      assert.deepEqual(seen, all);
      const scanned = [];
      for await (const batch of audit.store.scan({}, 2)) scanned.push(...batch.map((e) => e.id));
      assert.deepEqual(scanned, all);
    });

    it('inserts a redelivered event once', async () => {
      const again = entry({ time: new Date(NOW), resource: 'lib/dup@sha256:06' });
      await audit.store.insert([again]);
      await audit.store.insert([again, { ...again, part: 1, resourceType: 'tag', resource: 'lib/dup:v1' }]);
      assert.deepEqual((await resources({ resource: 'lib/dup' })).sort(), ['lib/dup:v1', 'lib/dup@sha256:06']);
    });
  });

  describe('purge', () => {
    const day = 24 * HOUR;
    before(async () => {
      const knex = kernel.get(coreServices.database).knex;
      await knex('audit_log_entries').delete();
      const rows = [];
      // 350 pushes 100 days old, 40 pulls 10 days old, 30 tag deletes 20 days old, 5 logins 400 days old, 6 recent pulls.
      for (let i = 0; i < 350; i++) rows.push(entry({ time: new Date(NOW - 100 * day - i) }));
      for (let i = 0; i < 40; i++) rows.push(entry({ time: new Date(NOW - 10 * day - i), operation: 'pull' }));
      for (let i = 0; i < 30; i++) rows.push(entry({ time: new Date(NOW - 20 * day - i), operation: 'delete', resourceType: 'tag' }));
      for (let i = 0; i < 5; i++) rows.push(entry({ time: new Date(NOW - 400 * day - i), operation: 'login', resourceType: 'user' }));
      for (let i = 0; i < 6; i++) rows.push(entry({ time: new Date(NOW - HOUR - i), operation: 'pull' }));
      for (let i = 0; i < rows.length; i += 100) await audit.store.insert(rows.slice(i, i + 100));
    });

    it('orders rules most specific first and fills in the default', () => {
      assert.deepEqual(rulesOf({ pull: '7d', 'tag.delete': '14d' }).map((r) => r.key), ['tag.delete', 'pull', 'default']);
      assert.equal(rulesOf({}).find((r) => r.key === 'default')?.retention, '90d');
      assert.equal(rulesOf({ login: 'forever' })[0]!.ms, undefined);
    });

    it('counts on a dry run exactly what the real run then deletes, rule by rule, in batches', async () => {
      const rules = rulesOf({ default: '90d', pull: '7d', 'tag.delete': '14d', login: 'forever' });
      const knex = kernel.get(coreServices.database).knex;
      const dry = await purgeEntries(knex, rules, { dryRun: true, batchSize: 100, now: NOW });
      assert.deepEqual(dry.rules, {
        'tag.delete': { retention: '14d', count: 30 },
        login: { retention: 'forever', count: 0 },
        pull: { retention: '7d', count: 40 },
        default: { retention: '90d', count: 350 },
      });
      const [row] = (await knex('audit_log_entries').count({ n: '*' })) as Array<{ n: number | string }>;
      assert.equal(Number(row?.n), 431, 'a dry run deletes nothing');
      const real = await purgeEntries(knex, rules, { dryRun: false, batchSize: 100, now: NOW });
      assert.deepEqual(real, dry);
      const left = (await audit.store.page({}, 100)).items;
      assert.equal(left.length, 11);
      assert.deepEqual([...new Set(left.map((e) => e.operation))].sort(), ['login', 'pull']);
    });

    it('keeps a bounded history of purges, each with who asked and what it did', async () => {
      const history = new PurgeHistory(() => kernel.get(coreServices.database).knex, kernel.get(coreServices.database).dialect);
      const id = await history.create({ dryRun: true, trigger: 'api', requestedBy: 'admin', now: NOW });
      assert.equal((await history.get(id))?.status, 'queued');
      assert.equal(await history.start(id, NOW + 1), true);
      await history.finish(id, { ok: true, total: 3, rules: { default: { retention: '90d', count: 3 } } }, NOW + 2);
      assert.equal(await history.start(id, NOW + 3), false, 'a finished purge does not run again');
      const got = await history.get(id);
      assert.equal(got?.status, 'succeeded');
      assert.equal(got?.dryRun, true);
      assert.equal(got?.requestedBy, 'admin');
      assert.equal(got?.deleted, 3);
      assert.deepEqual(got?.rules, { default: { retention: '90d', count: 3 } });
    });
  });
});
