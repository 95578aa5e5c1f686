import { orderBySort, type ApiSortKey, type DatabaseService, type Knex } from '@wharf/sdk';
import { TABLES } from './migrations.js';

/** A collection's history row: its options, where it is, what it did. */

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'stopped';
export type RunTrigger = 'api' | 'schedule' | 'cli';

export interface RunOptions {
  readonly dryRun: boolean;
  readonly deleteUntagged: boolean;
  readonly untaggedOlderThanDays: number;
  readonly workers: number;
  readonly graceWindowMinutes: number;
}

export interface RunCounts {
  /** Unreferenced blobs older than the window (deletion candidates). */
  readonly candidates: number;
  /** Unreferenced blobs left besides the candidates: spared by the grace window (or in use again). */
  readonly heldBack: number;
  /** Blobs deleted (dry run: that would be). */
  readonly blobsDeleted: number;
  /** Candidates found in use again when the kernel looked under its locks. */
  readonly blobsKept: number;
  /** Bytes freed (dry run: that would be). */
  readonly bytesFreed: number;
  readonly artifactsDeleted: number;
  readonly uploadsPurged: number;
}

export interface RunRecord extends RunCounts {
  readonly id: number;
  readonly status: RunStatus;
  readonly trigger: RunTrigger;
  readonly requestedBy: string | null;
  readonly options: RunOptions;
  readonly jobId: string | null;
  readonly stopRequested: boolean;
  readonly requestedAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** What a running collection is doing: `untagged`, `mark`, `sweep`, `uploads`. */
  readonly phase: string | null;
  readonly error: string | null;
}

export interface LogLine {
  readonly at: Date;
  readonly message: string;
}

type Row = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const time = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(num(v)));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function recordOf(r: Row): RunRecord {
  return {
    id: num(r['id']),
    status: String(r['status']) as RunStatus,
    trigger: String(r['trigger']) as RunTrigger,
    requestedBy: str(r['requested_by']),
    options: JSON.parse(String(r['options'])) as RunOptions,
    jobId: str(r['job_id']),
    stopRequested: Boolean(num(r['stop_requested'])),
    requestedAt: new Date(num(r['requested_at'])),
    startedAt: time(r['started_at']),
    finishedAt: time(r['finished_at']),
    phase: str(r['phase']),
    candidates: num(r['candidates']),
    heldBack: num(r['held_back']),
    blobsDeleted: num(r['blobs_deleted']),
    blobsKept: num(r['blobs_kept']),
    bytesFreed: num(r['bytes_freed']),
    artifactsDeleted: num(r['artifacts_deleted']),
    uploadsPurged: num(r['uploads_purged']),
    error: str(r['error']),
  };
}

const columnsOf = (c: Partial<RunCounts>): Row => {
  const row: Row = {};
  if (c.candidates !== undefined) row['candidates'] = c.candidates;
  if (c.heldBack !== undefined) row['held_back'] = c.heldBack;
  if (c.blobsDeleted !== undefined) row['blobs_deleted'] = c.blobsDeleted;
  if (c.blobsKept !== undefined) row['blobs_kept'] = c.blobsKept;
  if (c.bytesFreed !== undefined) row['bytes_freed'] = c.bytesFreed;
  if (c.artifactsDeleted !== undefined) row['artifacts_deleted'] = c.artifactsDeleted;
  if (c.uploadsPurged !== undefined) row['uploads_purged'] = c.uploadsPurged;
  return row;
};

/** Runs, their logs, the lock across nodes and the stored schedule. */
/** What the history sorts by (API field to column); ties break on `id`. */
export const GC_SORTS = Object.freeze({ id: 'id', status: 'status', trigger: 'trigger', requestedAt: 'requested_at', blobsDeleted: 'blobs_deleted', bytesFreed: 'bytes_freed' });

export class GcStore {
  constructor(
    private readonly database: DatabaseService,
    private readonly now: () => number = Date.now,
  ) {}

  private get knex(): Knex {
    return this.database.knex;
  }

  async create(input: { trigger: RunTrigger; requestedBy: string | null; options: RunOptions }): Promise<RunRecord> {
    const row = { status: 'queued', trigger: input.trigger, requested_by: input.requestedBy?.slice(0, 255) ?? null, options: JSON.stringify(input.options), requested_at: this.now() };
    let id: number;
    if (this.database.dialect === 'mysql') {
      const [inserted] = (await this.knex(TABLES.runs).insert(row)) as unknown[];
      id = num(inserted);
    } else {
      const [inserted] = (await this.knex(TABLES.runs).insert(row).returning('id')) as Row[];
      id = num(inserted?.['id']);
    }
    return (await this.get(id))!;
  }

  async get(id: number): Promise<RunRecord | undefined> {
    const row = (await this.knex(TABLES.runs).where({ id }).first()) as Row | undefined;
    return row ? recordOf(row) : undefined;
  }

  /** One numbered page in the `sort=` order (default newest first), with the total. */
  async list(page: number, pageSize: number, sort: readonly ApiSortKey[] = []): Promise<{ items: RunRecord[]; total: number }> {
    const [counted] = (await this.knex(TABLES.runs).count({ n: '*' })) as Row[];
    const ordered = orderBySort(this.knex(TABLES.runs), sort, GC_SORTS, { fallback: [{ field: 'id', descending: true }] });
    const rows = (await ordered.limit(pageSize).offset((page - 1) * pageSize)) as Row[];
    return { items: rows.map(recordOf), total: num(counted?.['n'] ?? 0) };
  }

  async setJob(id: number, jobId: string): Promise<void> {
    await this.knex(TABLES.runs).where({ id }).update({ job_id: jobId.slice(0, 64) });
  }

  /** Queued → running (or running again after a crash); `false` when it already finished. */
  async start(id: number): Promise<boolean> {
    const n = await this.knex(TABLES.runs).where({ id }).whereIn('status', ['queued', 'running']).update({ status: 'running', started_at: this.now(), error: null });
    return n > 0;
  }

  async progress(id: number, phase: string, counts: Partial<RunCounts>): Promise<void> {
    await this.knex(TABLES.runs).where({ id }).update({ phase, ...columnsOf(counts) });
  }

  async finish(id: number, status: Exclude<RunStatus, 'queued' | 'running'>, counts: Partial<RunCounts>, error?: string): Promise<void> {
    await this.knex(TABLES.runs).where({ id }).update({ status, phase: null, finished_at: this.now(), error: error?.slice(0, 1024) ?? null, ...columnsOf(counts) });
  }

  /** Asks a queued or running collection to stop; `false` when it is not. */
  async requestStop(id: number): Promise<boolean> {
    const n = await this.knex(TABLES.runs).where({ id }).whereIn('status', ['queued', 'running']).update({ stop_requested: true });
    return n > 0;
  }

  async stopRequested(id: number): Promise<boolean> {
    const row = (await this.knex(TABLES.runs).where({ id }).first('stop_requested')) as Row | undefined;
    return row ? Boolean(num(row['stop_requested'])) : true;
  }

  async log(id: number, message: string): Promise<void> {
    await this.knex(TABLES.logs).insert({ run_id: id, at: this.now(), message: message.slice(0, 2048) });
  }

  async logs(id: number): Promise<LogLine[]> {
    const rows = (await this.knex(TABLES.logs).where({ run_id: id }).orderBy('id').limit(10_000)) as Row[];
    return rows.map((r) => ({ at: new Date(num(r['at'])), message: String(r['message']) }));
  }

  /** Keeps the newest `keep` runs (their logs go with them). */
  async trim(keep: number): Promise<void> {
    const cut = (await this.knex(TABLES.runs).orderBy('id', 'desc').offset(keep).first('id')) as Row | undefined;
    if (!cut) return;
    const below = num(cut['id']);
    await this.knex(TABLES.logs).where('run_id', '<=', below).delete();
    await this.knex(TABLES.runs).where('id', '<=', below).whereNotIn('status', ['queued', 'running']).delete();
  }

  /**
   * Takes the collection lock for `ttlMs` when it is free or expired, or renews it when
   * `holder` has it. One compare-and-set statement: two nodes can never both hold it.
   */
  async lock(holder: string, runId: number, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const n = await this.knex(TABLES.lock)
      .where({ name: 'gc' })
      .andWhere((q) => q.where('until', '<', now).orWhere({ holder }))
      .update({ holder, run_id: runId, until: now + ttlMs });
    return n > 0;
  }

  async unlock(holder: string): Promise<void> {
    await this.knex(TABLES.lock).where({ name: 'gc', holder }).update({ holder: null, run_id: null, until: 0 });
  }

  /** The run holding the lock, when it is held. */
  async lockedBy(): Promise<number | undefined> {
    const row = (await this.knex(TABLES.lock).where({ name: 'gc' }).andWhere('until', '>=', this.now()).first('run_id')) as Row | undefined;
    return row && row['run_id'] !== null ? num(row['run_id']) : undefined;
  }

  /** Runs left `running` by a node that died (nobody holds the lock for them): marked failed. */
  async failAbandoned(except: number): Promise<void> {
    await this.knex(TABLES.runs).where({ status: 'running' }).whereNot({ id: except }).update({ status: 'failed', phase: null, finished_at: this.now(), error: 'interrupted: the node running it stopped; the next run finished its deletions' });
  }

  async getSetting(name: string): Promise<{ value: string | null; updatedAt: Date; updatedBy: string | null } | undefined> {
    const row = (await this.knex(TABLES.settings).where({ name }).first()) as Row | undefined;
    return row ? { value: str(row['value']), updatedAt: new Date(num(row['updated_at'])), updatedBy: str(row['updated_by']) } : undefined;
  }

  async setSetting(name: string, value: string | null, by: string | null): Promise<void> {
    await this.knex(TABLES.settings)
      .insert({ name, value, updated_at: this.now(), updated_by: by })
      .onConflict(['name'])
      .merge(['value', 'updated_at', 'updated_by']);
  }
}
