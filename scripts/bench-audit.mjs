#!/usr/bin/env node
// npm run bench:audit: the audit log at scale on PostgreSQL (a benchmark, not a test).
//   1. a throwaway database with the plugin's own migration, ROWS entries (default 10 million)
//      made with INSERT ... SELECT generate_series (secondary indexes built after the load);
//   2. a filtered page (one project, a 7-day range, 20 entries) through AuditStore.page:
//      median and worst of RUNS runs, first page and the next by cursor (target < 50 ms);
//   3. insert cost per event: store.insert(entriesOf(event)) one event at a time, and with 4 at once;
//   4. a purge of PURGE_ROWS (default 1 million) of the oldest entries through purgeEntries while
//      another connection inserts one entry after the other: the longest insert (target < 100 ms).
// env: ROWS=10000000 PURGE_ROWS=1000000 RUNS=50 BATCH=2000 BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test KEEP=1
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import knexFactory from 'knex';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const audit = await import(pathToFileURL(path.join(root, 'plugins/logging-audit/dist/index.js')).href).catch(() => {
  console.error('bench-audit: the audit plugin is not built: run npm run build');
  process.exit(2);
});
const { AuditStore, auditMigrations, entriesOf, purgeEntries, AUDIT_TABLES } = audit;

const ROWS = Number(process.env.ROWS ?? 10_000_000);
const PURGE_ROWS = Number(process.env.PURGE_ROWS ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 50);
const BATCH = Number(process.env.BATCH ?? 2000);
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// Prime, so every project gets every operation (20 kinds cycle with i % 20).
const PROJECTS = 997;
const DAY = 86_400_000;
const SPAN = 180 * DAY;
const T = Date.now();
const T0 = T - SPAN;

const log = (...a) => console.log(new Date().toISOString().slice(11, 19), ...a);
const ms = (n) => (n === undefined ? "n/a" : `${n.toFixed(2)} ms`);
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))], max: s[s.length - 1], n: s.length };
};
async function timed(fn) {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

const name = `wharf_bench_audit_${randomBytes(4).toString('hex')}`;
const admin = knexFactory({ client: 'pg', connection: ADMIN_URL, pool: { min: 0, max: 1 } });
await admin.raw('create database ??', [name]);
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const connect = (max) => knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 1, max } });
const knex = connect(4);
const figures = {};

try {
  await auditMigrations('postgres')[0].up(knex);
  const indexes = (await knex.raw(`select indexname, indexdef from pg_indexes where tablename = ? and indexname not like '%pkey' and indexname <> 'audit_log_entries_event'`, [AUDIT_TABLES.entries])).rows;
  for (const i of indexes) await knex.raw(`drop index ${i.indexname}`);

  // 1. Load: entries evenly over 180 days (row i at T0 + i * step), 997 projects, 5000 actors,
  // 70 % pulls, 15 % pushes, the rest tags, deletes and logins (which belong to no project).
  log(`loading ${ROWS.toLocaleString()} entries`);
  const step = SPAN / ROWS;
  const [loadMs] = await timed(() =>
    knex.raw(
      `insert into audit_log_entries (event_id, part, occurred_at, actor, actor_kind, actor_provider, client_address, operation, resource_type, resource, project, result, request_id, count, detail)
       select 'bench-' || i, 0, (?::bigint + i * ?::double precision)::bigint, 'user' || (i % 5000), 'user', 'db', '10.0.' || (i % 250) || '.' || (i % 200),
         case when i % 20 < 14 then 'pull' when i % 20 < 17 then 'push' when i % 20 = 17 then 'create' when i % 20 = 18 then 'delete' else 'login' end,
         case when i % 20 < 17 then 'artifact' when i % 20 < 19 then 'tag' else 'user' end,
         'p' || (i % ?) || '/app' || (i % 7) || '@sha256:' || lpad(to_hex(i), 64, '0'),
         case when i % 20 = 19 then null else 'p' || (i % ?) end,
         case when i % 97 = 0 then 'failure' else 'success' end, 'req-' || i, 1, null
       from generate_series(0, ?::bigint - 1) as i`,
      [T0, step, PROJECTS, PROJECTS, ROWS],
    ),
  );
  log(`loaded in ${(loadMs / 1000).toFixed(1)} s; building ${indexes.length} indexes`);
  const [indexMs] = await timed(() =>
    knex.transaction(async (trx) => {
      await trx.raw("set local maintenance_work_mem = '256MB'");
      for (const i of indexes) await trx.raw(i.indexdef);
    }),
  );
  await knex.raw('vacuum analyze audit_log_entries');
  const size = (await knex.raw(`select pg_size_pretty(pg_total_relation_size('audit_log_entries')) as s`)).rows[0].s;
  log(`indexes in ${(indexMs / 1000).toFixed(1)} s; table with indexes: ${size}`);
  figures.load = { rows: ROWS, loadSeconds: loadMs / 1000, indexSeconds: indexMs / 1000, size };

  // 2. Filtered pages.
  const store = new AuditStore(() => knex);
  const pageRuns = async (label, filter) => {
    const first = [];
    const second = [];
    for (let r = 0; r < RUNS; r++) {
      const f = typeof filter === 'function' ? filter(r) : filter;
      const [a, page] = await timed(() => store.page(f, 20));
      first.push(a);
      if (page.next) second.push((await timed(() => store.page(f, 20, page.next)))[0]);
      if (page.items.length === 0) throw new Error(`${label}: no entries for ${JSON.stringify(f)} (the bench data is wrong)`);
    }
    const s1 = stats(first);
    const s2 = stats(second);
    log(`${label}: first page median ${ms(s1.median)}, max ${ms(s1.max)}; next page median ${ms(s2.median)}, max ${ms(s2.max)}`);
    figures[label] = { first: s1, next: s2 };
  };
  await pageRuns('project + 7 days', (r) => {
    const to = T - ((r * 3) % 170) * DAY;
    return { project: `p${(r * 37) % PROJECTS}`, from: to - 7 * DAY, to };
  });
  await pageRuns('time range only (sysadmin)', (r) => ({ from: T - ((r % 170) + 7) * DAY, to: T - (r % 170) * DAY }));
  await pageRuns('actor', (r) => ({ actor: `user${(r * 101) % 5000}` }));
  await pageRuns('project + operation push', (r) => ({ project: `p${(r * 13) % PROJECTS}`, operation: 'push' }));

  // 3. Insert cost per event (a push with a tag: two entries, as the consumer writes it).
  const event = (i) => ({
    id: randomUUID(), seq: i, type: 'registry.manifest.pushed', occurredAt: new Date(), partition: 'p1/app',
    actor: { subject: 'bench', kind: 'user', provider: 'db' }, request: { requestId: `r${i}`, ip: '10.9.9.9', userAgent: 'bench' },
    data: { repository: `p${i % PROJECTS}/app`, digest: `sha256:${i.toString(16).padStart(64, '0')}`, tag: 'v1', mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1 },
  });
  const serial = [];
  for (let i = 0; i < 2000; i++) serial.push((await timed(() => store.insert(entriesOf(event(i)))))[0]);
  const [parallelMs] = await timed(async () => {
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < 4000) await store.insert(entriesOf(event(10_000 + next++)));
    }));
  });
  const s = stats(serial);
  log(`insert per event (2 entries): median ${ms(s.median)}, p99 ${ms(s.p99)}; 4 at once: ${(4000 / (parallelMs / 1000)).toFixed(0)} events/s`);
  figures.insert = { serial: s, parallelEventsPerSecond: 4000 / (parallelMs / 1000) };

  // 4. Purge the oldest PURGE_ROWS while another connection inserts continuously.
  const cutoff = T0 + PURGE_ROWS * step;
  const rules = [{ key: 'default', retention: 'bench', ms: T - cutoff }];
  const inserter = connect(1);
  const insertStore = new AuditStore(() => inserter);
  let phase = 'baseline';
  const latencies = { baseline: [], purge: [] };
  const inserting = (async () => {
    let i = 100_000;
    while (phase !== 'done') {
      const at = phase;
      const [t] = await timed(() => insertStore.insert(entriesOf(event(i++))));
      latencies[at].push(t);
    }
  })();
  // The same inserts without a purge first: what the machine itself costs (fsync, other load).
  await new Promise((r) => setTimeout(r, 5000));
  phase = 'purge';
  log(`purging ${PURGE_ROWS.toLocaleString()} entries in batches of ${BATCH}, inserting alongside`);
  const [purgeMs, purged] = await timed(() => purgeEntries(knex, rules, { dryRun: false, batchSize: BATCH, now: T }));
  phase = 'done';
  await inserting;
  await inserter.destroy();
  const base = stats(latencies.baseline);
  const st = stats(latencies.purge);
  log(`baseline (no purge, 5 s): ${base.n} inserts, median ${ms(base.median)}, p99 ${ms(base.p99)}, longest ${ms(base.max)}`);
  log(`purged ${purged.total.toLocaleString()} in ${(purgeMs / 1000).toFixed(1)} s (${(purged.total / (purgeMs / 1000)).toFixed(0)} rows/s); ${st.n} inserts meanwhile: median ${ms(st.median)}, p99 ${ms(st.p99)}, longest ${ms(st.max)}`);
  figures.purge = { deleted: purged.total, seconds: purgeMs / 1000, inserts: st, baselineInserts: base };
  const ok = figures['project + 7 days'].first.max < 50 && figures['project + 7 days'].first.median < 50 && st.max < 100;
  console.log(JSON.stringify(figures, null, 2));
  log(ok ? 'targets met: page < 50 ms, longest insert during the purge < 100 ms' : 'a target was missed (see above)');
  process.exitCode = ok ? 0 : 1;
} finally {
  await knex.destroy();
  if (process.env.KEEP === '1') log(`database kept: ${name}`);
  else await admin.raw('drop database if exists ?? with (force)', [name]);
  await admin.destroy();
}
