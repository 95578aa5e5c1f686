import type { DatabaseDialect, Knex } from '@wharf/sdk';
import { durationMs } from './config.js';
import { TABLES } from './migrations.js';

/**
 * Retention: which entries are old enough to go, and deleting them without holding locks for
 * long. Rules come from `retention` (`default`, an operation, or `<resource type>.<operation>`);
 * each entry falls under its most specific rule. Each rule's entries are walked oldest first by
 * the keyset `(occurred_at, id)`: select a batch of ids on an index, delete those ids, go on
 * after the last one. A batch is a few thousand rows (a short statement; concurrent inserts never
 * wait long), and the walk never rereads rows it deleted (PostgreSQL keeps dead index entries
 * until vacuum, so starting over from the oldest every time would grow slower with each batch).
 */

export interface RetentionRule {
  /** As written in the config: `default`, `pull`, `tag.delete`. */
  readonly key: string;
  readonly retention: string;
  /** Undefined: kept forever. */
  readonly ms: number | undefined;
  readonly operation?: string | undefined;
  readonly resourceType?: string | undefined;
}

/** Most specific first: `<type>.<op>`, then `<op>`, then `default`. */
export function rulesOf(retention: Readonly<Record<string, string>>): RetentionRule[] {
  const rules: RetentionRule[] = Object.entries(retention).map(([key, value]) => {
    const dot = key.indexOf('.');
    const base = { key, retention: value, ms: durationMs(value) };
    if (key === 'default') return base;
    return dot < 0 ? { ...base, operation: key } : { ...base, resourceType: key.slice(0, dot), operation: key.slice(dot + 1) };
  });
  if (!rules.some((r) => r.key === 'default')) rules.push({ key: 'default', retention: '90d', ms: durationMs('90d') });
  const rank = (r: RetentionRule) => (r.resourceType !== undefined ? 0 : r.operation !== undefined ? 1 : 2);
  return rules.sort((a, b) => rank(a) - rank(b) || a.key.localeCompare(b.key));
}

/** Narrows a query to the entries a rule governs (and no more specific rule does). */
function governedBy(query: Knex.QueryBuilder, rule: RetentionRule, rules: readonly RetentionRule[]): Knex.QueryBuilder {
  const byOperation = rules.filter((r) => r.operation !== undefined && r.resourceType === undefined).map((r) => r.operation!);
  const pairs = rules.filter((r) => r.resourceType !== undefined);
  if (rule.resourceType !== undefined) return query.where({ operation: rule.operation, resource_type: rule.resourceType });
  if (rule.operation !== undefined) {
    query.where('operation', rule.operation);
    const own = pairs.filter((p) => p.operation === rule.operation).map((p) => p.resourceType!);
    if (own.length > 0) query.whereNotIn('resource_type', own);
    return query;
  }
  if (byOperation.length > 0) query.whereNotIn('operation', byOperation);
  for (const p of pairs.filter((p) => !byOperation.includes(p.operation!))) {
    query.whereNot((q) => q.where({ operation: p.operation, resource_type: p.resourceType }));
  }
  return query;
}

export interface PurgeOptions {
  readonly dryRun: boolean;
  readonly batchSize: number;
  readonly now: number;
  readonly signal?: AbortSignal | undefined;
}

/** Per rule: its retention and how many entries went (or would go, on a dry run). */
export type PurgeCounts = Record<string, { retention: string; count: number }>;

export async function purgeEntries(knex: Knex, rules: readonly RetentionRule[], options: PurgeOptions): Promise<{ total: number; rules: PurgeCounts }> {
  const counts: PurgeCounts = {};
  let total = 0;
  for (const rule of rules) {
    let count = 0;
    if (rule.ms !== undefined) {
      const cutoff = options.now - rule.ms;
      const base = () => governedBy(knex(TABLES.entries).where('occurred_at', '<', cutoff), rule, rules);
      if (options.dryRun) {
        const [row] = (await base().count({ n: '*' })) as Array<{ n: number | string }>;
        count = Number(row?.n ?? 0);
      } else {
        count = await deleteInBatches(knex, base, options);
      }
    }
    counts[rule.key] = { retention: rule.retention, count };
    total += count;
  }
  return { total, rules: counts };
}

async function deleteInBatches(knex: Knex, base: () => Knex.QueryBuilder, options: PurgeOptions): Promise<number> {
  let deleted = 0;
  let after: { time: number; id: number } | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const query = base().select('id', 'occurred_at');
    if (after) {
      const { time, id } = after;
      query.where('occurred_at', '>=', time).andWhere((q) => q.where('occurred_at', '>', time).orWhere('id', '>', id));
    }
    const rows = (await query.orderBy([{ column: 'occurred_at' }, { column: 'id' }]).limit(options.batchSize)) as Array<{ id: unknown; occurred_at: unknown }>;
    if (rows.length === 0) return deleted;
    const ids = rows.map((r) => Number(r.id));
    deleted += await knex(TABLES.entries).whereIn('id', ids).delete();
    const last = rows[rows.length - 1]!;
    after = { time: Number(last.occurred_at), id: Number(last.id) };
    if (rows.length < options.batchSize) return deleted;
  }
}

/** A purge as the history shows it. */
export interface PurgeRecord {
  readonly id: number;
  readonly status: 'queued' | 'running' | 'succeeded' | 'failed';
  readonly dryRun: boolean;
  readonly trigger: 'schedule' | 'api';
  readonly requestedBy: string | null;
  readonly requestedAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
  /** Entries deleted (or, on a dry run, that would have been). */
  readonly deleted: number;
  readonly rules: PurgeCounts | null;
  readonly error: string | null;
}

/** Purges kept in the history; older ones are dropped when a purge ends. */
export const PURGE_HISTORY_KEEP = 200;

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)));

function purgeOf(row: Record<string, unknown>): PurgeRecord {
  return {
    id: Number(row.id),
    status: String(row.status) as PurgeRecord['status'],
    dryRun: row.dry_run === true || row.dry_run === 1 || row.dry_run === '1',
    trigger: String(row.trigger) as PurgeRecord['trigger'],
    requestedBy: row.requested_by === null || row.requested_by === undefined ? null : String(row.requested_by),
    requestedAt: new Date(Number(row.requested_at)),
    startedAt: date(row.started_at),
    finishedAt: date(row.finished_at),
    deleted: Number(row.deleted),
    rules: typeof row.rules === 'string' ? (JSON.parse(row.rules) as PurgeCounts) : null,
    error: row.error === null || row.error === undefined ? null : String(row.error),
  };
}

/** The purge history table. */
export class PurgeHistory {
  constructor(
    private readonly knex: () => Knex,
    private readonly dialect: DatabaseDialect,
  ) {}

  async create(input: { dryRun: boolean; trigger: PurgeRecord['trigger']; requestedBy: string | null; now: number }): Promise<number> {
    const row = { status: 'queued', dry_run: input.dryRun, trigger: input.trigger, requested_by: input.requestedBy?.slice(0, 255) ?? null, requested_at: input.now, deleted: 0 };
    // PostgreSQL answers RETURNING; SQLite and MySQL give the new row id.
    const insert = this.dialect === 'postgres' ? this.knex()(TABLES.purges).insert(row, ['id']) : this.knex()(TABLES.purges).insert(row);
    const [id] = (await insert) as Array<number | { id: number }>;
    return typeof id === 'object' ? Number(id.id) : Number(id);
  }

  async get(id: number): Promise<PurgeRecord | undefined> {
    const row = (await this.knex()(TABLES.purges).where({ id }).first()) as Record<string, unknown> | undefined;
    return row ? purgeOf(row) : undefined;
  }

  /** Newest first. */
  async list(limit: number): Promise<PurgeRecord[]> {
    const rows = (await this.knex()(TABLES.purges).orderBy('id', 'desc').limit(limit)) as Record<string, unknown>[];
    return rows.map(purgeOf);
  }

  /** Marks a queued purge running; false when it already ran (a job delivered twice). */
  async start(id: number, now: number): Promise<boolean> {
    return (await this.knex()(TABLES.purges).where({ id }).whereIn('status', ['queued', 'running']).update({ status: 'running', started_at: now })) > 0;
  }

  async finish(id: number, outcome: { ok: true; total: number; rules: PurgeCounts } | { ok: false; error: string }, now: number): Promise<void> {
    const change = outcome.ok
      ? { status: 'succeeded', deleted: outcome.total, rules: JSON.stringify(outcome.rules), finished_at: now }
      : { status: 'failed', error: outcome.error.slice(0, 1024), finished_at: now };
    await this.knex()(TABLES.purges).where({ id }).update(change);
    // The history is bounded too.
    const keep = (await this.knex()(TABLES.purges).select('id').orderBy('id', 'desc').offset(PURGE_HISTORY_KEEP).limit(1)) as Array<{ id: unknown }>;
    if (keep[0]) await this.knex()(TABLES.purges).where('id', '<=', Number(keep[0].id)).delete();
  }
}
