import type { Knex } from 'knex';
import type { JobLogLine, JobRecord, JobStatus } from '@wharf/sdk';
import { dialectOf, type Dialect } from '../../metadata/connection.js';
import { isUniqueViolation } from '../../metadata/db-errors.js';
import { chunks, inTransaction, toNumber } from '../../metadata/sql.js';

/**
 * SQL of the embedded backend. Every state change is one conditional UPDATE whose WHERE names
 * the state it expects (`status = 'queued'`, `lease_owner = me`), so nodes sharing a database
 * never need locks: the node whose UPDATE changed the row won, the others see 0 rows.
 */

const FINISHED: JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface ClaimedJob {
  readonly id: string;
  readonly type: string;
  readonly payload: unknown;
  readonly attempts: number;
  readonly maxAttempts: number;
}

export interface NewJob {
  readonly type: string;
  readonly payload: unknown;
  readonly maxAttempts: number;
  readonly runAt: number;
  readonly key?: string | undefined;
  readonly tickKey?: string | undefined;
}

interface JobRow {
  id: unknown;
  type: string;
  payload: string;
  status: JobStatus;
  attempts: unknown;
  max_attempts: unknown;
  error: string | null;
  created_at: unknown;
  finished_at: unknown;
  cancel_requested: unknown;
  lease_owner: string | null;
}

/** Ids are decimal strings of the row id; anything else names no job. */
function rowId(id: string): number | undefined {
  return /^[1-9][0-9]{0,17}$/.test(id) ? Number(id) : undefined;
}

export class JobStore {
  readonly dialect: Dialect;

  constructor(
    readonly knex: Knex,
    readonly now: () => number = Date.now,
  ) {
    this.dialect = dialectOf(knex);
  }

  private async insert(db: Knex | Knex.Transaction, job: NewJob): Promise<string | undefined> {
    const now = this.now();
    const row = {
      type: job.type,
      payload: JSON.stringify(job.payload ?? null),
      status: 'queued',
      attempts: 0,
      max_attempts: job.maxAttempts,
      dedupe_key: job.key ?? null,
      tick_key: job.tickKey ?? null,
      run_at: job.runAt,
      cancel_requested: false,
      created_at: now,
    };
    let query = db('jobs').insert(row);
    // A tick fired twice (it cannot, but belt and braces) is dropped by its unique key.
    if (job.tickKey !== undefined) query = query.onConflict(['tick_key']).ignore();
    if (this.dialect === 'mysql') {
      const [id] = (await query) as number[];
      return id ? String(id) : undefined;
    }
    const rows = (await query.returning('id')) as Array<{ id: unknown } | number>;
    const first = rows[0];
    if (first === undefined) return undefined;
    return String(typeof first === 'object' ? toNumber(first.id) : first);
  }

  /**
   * Adds a job. With a key, the live job holding it wins: its id is returned. The unique
   * `dedupe_key` makes this safe across nodes; the loop covers the job finishing (and letting
   * go of the key) between our failed insert and our read.
   */
  async enqueue(job: NewJob): Promise<string> {
    for (let i = 0; ; i += 1) {
      try {
        const id = await this.insert(this.knex, job);
        if (id === undefined) throw new Error('insert returned no id');
        return id;
      } catch (err) {
        if (job.key === undefined || !isUniqueViolation(err) || i >= 5) throw err;
      }
      const live = await this.idByKey(job.key);
      if (live !== undefined) return live;
    }
  }

  async idByKey(key: string): Promise<string | undefined> {
    const row = (await this.knex('jobs').where({ dedupe_key: key }).first('id')) as { id: unknown } | undefined;
    return row ? String(toNumber(row.id)) : undefined;
  }

  /** Queued jobs of `type` that are due, oldest first. */
  async due(type: string, limit: number): Promise<string[]> {
    const rows = (await this.knex('jobs')
      .where({ type, status: 'queued' })
      .andWhere('run_at', '<=', this.now())
      .orderBy([{ column: 'run_at' }, { column: 'id' }])
      .limit(limit)
      .select('id')) as { id: unknown }[];
    return rows.map((r) => String(toNumber(r.id)));
  }

  /** Takes a queued job for `owner`; `undefined` when another node was faster. */
  async claim(id: string, owner: string, leaseMs: number): Promise<ClaimedJob | undefined> {
    const now = this.now();
    const n = await this.knex('jobs')
      .where({ id: rowId(id), status: 'queued' })
      .andWhere('run_at', '<=', now)
      .update({ status: 'running', lease_owner: owner, lease_until: now + leaseMs, attempts: this.knex.raw('attempts + 1'), started_at: now });
    if (n !== 1) return undefined;
    const row = (await this.knex('jobs').where({ id: rowId(id) }).first('type', 'payload', 'attempts', 'max_attempts')) as JobRow | undefined;
    if (!row) return undefined;
    return { id, type: row.type, payload: JSON.parse(row.payload) as unknown, attempts: toNumber(row.attempts), maxAttempts: toNumber(row.max_attempts) };
  }

  /** Extends the leases `owner` holds; returns the rows' state so the caller sees cancels and lost leases. */
  async heartbeat(ids: string[], owner: string, leaseMs: number): Promise<Map<string, { mine: boolean; cancel: boolean }>> {
    const out = new Map<string, { mine: boolean; cancel: boolean }>();
    for (const part of chunks(ids.map(rowId).filter((n): n is number => n !== undefined), 500)) {
      await this.knex('jobs').whereIn('id', part).andWhere({ lease_owner: owner, status: 'running' }).update({ lease_until: this.now() + leaseMs });
      const rows = (await this.knex('jobs').whereIn('id', part).select('id', 'lease_owner', 'status', 'cancel_requested')) as JobRow[];
      for (const r of rows) {
        out.set(String(toNumber(r.id)), { mine: r.lease_owner === owner && r.status === 'running', cancel: Boolean(r.cancel_requested) });
      }
    }
    return out;
  }

  private mine(id: string, owner: string) {
    return this.knex('jobs').where({ id: rowId(id), lease_owner: owner, status: 'running' });
  }

  private finished(status: JobStatus) {
    return { status, finished_at: this.now(), dedupe_key: null, lease_owner: null, lease_until: null };
  }

  /** Ends a run. A cancel requested meanwhile wins over the handler's outcome. */
  async finish(id: string, owner: string, outcome: { status: 'succeeded' } | { status: 'failed'; error: string } | { status: 'retry'; error: string; runAt: number }): Promise<boolean> {
    const cancelled = await this.mine(id, owner).andWhere({ cancel_requested: true }).update(this.finished('cancelled'));
    if (cancelled === 1) return true;
    if (outcome.status === 'succeeded') return (await this.mine(id, owner).update(this.finished('succeeded'))) === 1;
    if (outcome.status === 'failed') return (await this.mine(id, owner).update({ ...this.finished('failed'), error: outcome.error })) === 1;
    return (await this.mine(id, owner).update({ status: 'queued', run_at: outcome.runAt, error: outcome.error, lease_owner: null, lease_until: null })) === 1;
  }

  /** Gives a job back at shutdown: queued again at once, and the attempt does not count. */
  async release(id: string, owner: string): Promise<boolean> {
    const n = await this.mine(id, owner).update({ status: 'queued', run_at: this.now(), lease_owner: null, lease_until: null, attempts: this.knex.raw('attempts - 1') });
    return n === 1;
  }

  /**
   * Jobs whose lease expired (their node died or hung): queued again while attempts remain,
   * else failed; cancelled if a cancel was asked for. Any node may do this.
   */
  async reapExpired(): Promise<number> {
    const now = this.now();
    const expired = () => this.knex('jobs').where({ status: 'running' }).andWhere('lease_until', '<', now);
    const error = 'lease expired: the node running the job stopped';
    const cancelled = await expired().andWhere({ cancel_requested: true }).update(this.finished('cancelled'));
    const requeued = await expired()
      .andWhere({ cancel_requested: false })
      .andWhere('attempts', '<', this.knex.ref('max_attempts'))
      .update({ status: 'queued', run_at: now, lease_owner: null, lease_until: null, error });
    const failed = await expired().andWhere({ cancel_requested: false }).update({ ...this.finished('failed'), error });
    return cancelled + requeued + failed;
  }

  /** Queued → cancelled; running → cancel requested (the runner's heartbeat aborts it). */
  async cancel(id: string): Promise<'cancelled' | 'requested' | false> {
    const n = rowId(id);
    if (n === undefined) return false;
    if ((await this.knex('jobs').where({ id: n, status: 'queued' }).update(this.finished('cancelled'))) === 1) return 'cancelled';
    if ((await this.knex('jobs').where({ id: n, status: 'running' }).update({ cancel_requested: true })) === 1) return 'requested';
    return false;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const n = rowId(id);
    if (n === undefined) return undefined;
    const r = (await this.knex('jobs').where({ id: n }).first()) as JobRow | undefined;
    if (!r) return undefined;
    const finishedAt = r.finished_at === null || r.finished_at === undefined ? undefined : new Date(toNumber(r.finished_at));
    return {
      id,
      type: r.type,
      payload: JSON.parse(r.payload) as unknown,
      status: r.status,
      attempts: toNumber(r.attempts),
      maxAttempts: toNumber(r.max_attempts),
      error: r.error ?? undefined,
      createdAt: new Date(toNumber(r.created_at)),
      finishedAt,
    };
  }

  /** Jobs waiting to run (queued, delayed, or waiting for a retry), by type. */
  async queuedByType(): Promise<Record<string, number>> {
    const rows = (await this.knex('jobs').where({ status: 'queued' }).select('type').count({ n: '*' }).groupBy('type')) as { type: string; n: number | string }[];
    return Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
  }

  async appendLog(id: string, message: string): Promise<void> {
    const n = rowId(id);
    if (n === undefined) return;
    await this.knex('job_logs').insert({ job_id: n, at: this.now(), message });
  }

  async log(id: string): Promise<JobLogLine[]> {
    const n = rowId(id);
    if (n === undefined) return [];
    const rows = (await this.knex('job_logs').where({ job_id: n }).orderBy('id').select('at', 'message')) as { at: unknown; message: string }[];
    return rows.map((r) => ({ at: new Date(toNumber(r.at)), message: r.message }));
  }

  /** Deletes finished jobs (and their log lines) beyond `keep` per type or older than `maxAgeMs`. */
  async sweep(keep: number, maxAgeMs: number): Promise<number> {
    let deleted = 0;
    const cutoff = this.now() - maxAgeMs;
    for (;;) {
      const old = (await this.knex('jobs').whereIn('status', FINISHED).andWhere('finished_at', '<', cutoff).limit(500).select('id')) as { id: unknown }[];
      deleted += await this.deleteJobs(old.map((r) => toNumber(r.id)));
      if (old.length < 500) break;
    }
    const types = (await this.knex('jobs').whereIn('status', FINISHED).distinct('type')) as { type: string }[];
    for (const { type } of types) {
      for (;;) {
        // MySQL cannot LIMIT inside IN (...): fetch the surplus ids, then delete them.
        const surplus = (await this.knex('jobs')
          .where({ type })
          .whereIn('status', FINISHED)
          .orderBy([{ column: 'finished_at', order: 'desc' }, { column: 'id', order: 'desc' }])
          .offset(keep)
          .limit(500)
          .select('id')) as { id: unknown }[];
        deleted += await this.deleteJobs(surplus.map((r) => toNumber(r.id)));
        if (surplus.length < 500) break;
      }
    }
    return deleted;
  }

  private async deleteJobs(ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    return inTransaction({ knex: this.knex, dialect: this.dialect, now: this.now }, async (trx) => {
      await trx('job_logs').whereIn('job_id', ids).delete();
      // Re-check the status: a row is only ever deleted once finished.
      return trx('jobs').whereIn('id', ids).whereIn('status', FINISHED).delete();
    });
  }

  // ---- cron schedules ----

  async upsertSchedule(s: { name: string; cron: string; type: string; payload: unknown; nextRunAt: number }): Promise<void> {
    const now = this.now();
    const payload = JSON.stringify(s.payload ?? null);
    try {
      await this.knex('job_schedules').insert({ name: s.name, cron: s.cron, type: s.type, payload, next_run_at: s.nextRunAt, created_at: now, updated_at: now });
      return;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    await this.knex('job_schedules').where({ name: s.name }).update({ type: s.type, payload, updated_at: now });
    // Same cron: keep the pending tick, so every node calling schedule() at boot changes nothing.
    await this.knex('job_schedules').where({ name: s.name }).andWhereNot({ cron: s.cron }).update({ cron: s.cron, next_run_at: s.nextRunAt });
  }

  async deleteSchedule(name: string): Promise<boolean> {
    return (await this.knex('job_schedules').where({ name }).delete()) > 0;
  }

  async dueSchedules(): Promise<{ name: string; cron: string; type: string; payload: unknown; due: number }[]> {
    const rows = (await this.knex('job_schedules').where('next_run_at', '<=', this.now()).select('name', 'cron', 'type', 'payload', 'next_run_at')) as {
      name: string;
      cron: string;
      type: string;
      payload: string;
      next_run_at: unknown;
    }[];
    return rows.map((r) => ({ name: r.name, cron: r.cron, type: r.type, payload: JSON.parse(r.payload) as unknown, due: toNumber(r.next_run_at) }));
  }

  /**
   * Fires one tick: moves `next_run_at` from `due` to `next` and adds the tick's job, in one
   * transaction. Only the node whose UPDATE matched `due` adds it; the unique tick key backs
   * that up. Resolves the new job's id, or `undefined` when another node fired the tick.
   */
  async fireTick(name: string, due: number, next: number, job: NewJob): Promise<string | undefined> {
    return inTransaction({ knex: this.knex, dialect: this.dialect, now: this.now }, async (trx) => {
      const n = await trx('job_schedules').where({ name, next_run_at: due }).update({ next_run_at: next });
      if (n !== 1) return undefined;
      return this.insert(trx, { ...job, tickKey: `${name}@${due}` });
    });
  }
}
