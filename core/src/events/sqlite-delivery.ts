import { prepared, type SqliteConnection } from '../metadata/sqlite-direct.js';
import { bigint } from '../metadata/decode.js';

/**
 * The delivery loop's hot statements on SQLite, run synchronously on the connection with
 * cached statements (see metadata/sqlite-direct.ts): looking for work, claiming runs and
 * completing them happen once per batch of pulls, and through knex each statement cost more
 * in query building and `prepare` than in SQLite. Same rules as the knex path in
 * delivery-store.ts; the claim is one IMMEDIATE transaction, so nothing can come between
 * reading a partition's pending rows and marking them running.
 */

const CANDIDATES = `select d.seq, d.partition_key from event_deliveries as d
  where d.consumer = ? and d.status = 'pending' and d.available_at <= ?
    and not exists (select 1 from event_deliveries as p
      where p.consumer = d.consumer and p.partition_key = d.partition_key and p.seq < d.seq and p.status in ('pending', 'running'))
  order by d.seq limit ?`;
const RUN = `select seq, available_at from event_deliveries
  where consumer = ? and partition_key = ? and status = 'pending' and seq >= ? order by seq limit ?`;
const CLAIM = `update event_deliveries set status = 'running', holder = ?, lease_until = ?, attempts = attempts + 1
  where consumer = ? and seq = ? and status = 'pending'`;
const CLAIMED = `select d.attempts, e.seq, e.id, e.type, e.partition_key, e.body, e.occurred_at
  from event_deliveries as d join events as e on e.seq = d.seq
  where d.consumer = ? and d.seq = ?`;
const COMPLETE = `update event_deliveries set status = 'delivered', holder = null, lease_until = null, finished_at = ?, last_error = null
  where consumer = ? and seq = ? and status = 'running' and holder = ?`;

/**
 * Reads the heads of up to `limit` waiting partitions and claims a run of each (the head and
 * up to `max - 1` due pending rows after it). Resolves how many heads there were and the runs'
 * rows (event and attempt), each run in order.
 */
export function claimWaitingSqlite(
  db: SqliteConnection,
  args: { consumer: string; limit: number; max: number; holder: string; leaseMs: number; now: number },
): { heads: number; runs: Array<Array<Record<string, unknown>>> } {
  const { consumer, limit, max, holder, leaseMs, now } = args;
  return db.transaction(() => {
    const heads = prepared(db, CANDIDATES).all(consumer, now, limit) as Array<Record<string, unknown>>;
    const claim = prepared(db, CLAIM);
    const claimed = prepared(db, CLAIMED);
    const runs: Array<Array<Record<string, unknown>>> = [];
    for (const head of heads) {
      const run: Array<Record<string, unknown>> = [];
      for (const row of prepared(db, RUN).all(consumer, head['partition_key'], head['seq'], max) as Array<Record<string, unknown>>) {
        if (bigint(row, 'available_at') > now) break;
        if (claim.run(holder, now + leaseMs, consumer, row['seq']).changes !== 1) break;
        run.push(claimed.all(consumer, row['seq'])[0] as Record<string, unknown>);
      }
      if (run.length > 0) runs.push(run);
    }
    return { heads: heads.length, runs };
  }).immediate();
}

/**
 * Marks runs' running deliveries delivered, inside the caller's transaction (a pull batch's, or
 * one of their own); resolves, per run, how many of its deliveries the holder still held.
 */
export function completeRunsSqlite(db: SqliteConnection, runs: ReadonlyArray<{ consumer: string; seqs: readonly number[]; holder: string }>, now: number): number[] {
  const complete = prepared(db, COMPLETE);
  return runs.map((run) => {
    let changed = 0;
    for (const seq of run.seqs) changed += complete.run(now, run.consumer, seq, run.holder).changes;
    return changed;
  });
}
