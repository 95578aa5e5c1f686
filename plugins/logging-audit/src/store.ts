import type { Knex } from '@wharf/sdk';
import type { AuditEntry, AuditOperation, AuditResult } from './entries.js';
import { TABLES } from './migrations.js';

/**
 * The audit log's table: insert entries (idempotently), read them newest first with keyset
 * pagination, scan them for exports. Every read orders by `(occurred_at, id)` so each query is
 * a range of one of the table's indexes (see migrations.ts), never an OFFSET.
 */

/** An entry as stored: with its id. */
export interface StoredEntry extends Omit<AuditEntry, 'eventId' | 'part'> {
  readonly id: number;
  readonly eventId: string;
}

/** What a query may narrow on. Times are epoch ms: `from` inclusive, `to` exclusive. */
export interface AuditFilter {
  readonly operation?: string | undefined;
  readonly resourceType?: string | undefined;
  /** Entries whose resource starts with this (`lib/app` finds `lib/app@sha256:...` and `lib/app:v1`). */
  readonly resource?: string | undefined;
  readonly actor?: string | undefined;
  readonly project?: string | undefined;
  readonly result?: AuditResult | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

/** Where a page ended: the last entry's time and id. */
export interface Cursor {
  readonly time: number;
  readonly id: number;
}

export interface AuditPage {
  readonly items: StoredEntry[];
  /** Set while older entries follow. */
  readonly next: Cursor | undefined;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function rowOf(entry: AuditEntry): Record<string, unknown> {
  return {
    event_id: entry.eventId,
    part: entry.part,
    occurred_at: entry.time.getTime(),
    actor: entry.actor,
    actor_kind: entry.actorKind,
    actor_provider: entry.actorProvider,
    client_address: entry.clientAddress,
    operation: entry.operation,
    resource_type: entry.resourceType,
    resource: entry.resource,
    project: entry.project,
    result: entry.result,
    request_id: entry.requestId,
    count: entry.count,
    detail: Object.keys(entry.detail).length > 0 ? JSON.stringify(entry.detail) : null,
  };
}

function entryOf(row: Record<string, unknown>): StoredEntry {
  let detail: Record<string, unknown> = {};
  if (typeof row.detail === 'string') {
    try {
      detail = JSON.parse(row.detail) as Record<string, unknown>;
    } catch {
      detail = {};
    }
  }
  return {
    id: num(row.id),
    eventId: String(row.event_id),
    time: new Date(num(row.occurred_at)),
    actor: str(row.actor),
    actorKind: str(row.actor_kind),
    actorProvider: str(row.actor_provider),
    clientAddress: str(row.client_address),
    operation: String(row.operation) as AuditOperation,
    resourceType: String(row.resource_type),
    resource: String(row.resource),
    project: str(row.project),
    result: String(row.result) as AuditResult,
    requestId: str(row.request_id),
    count: num(row.count),
    detail,
  };
}

/** Narrows a query to a filter. */
export function applyFilter(query: Knex.QueryBuilder, filter: AuditFilter): Knex.QueryBuilder {
  if (filter.project !== undefined) query.where('project', filter.project);
  if (filter.actor !== undefined) query.where('actor', filter.actor);
  if (filter.operation !== undefined) query.where('operation', filter.operation);
  if (filter.resourceType !== undefined) query.where('resource_type', filter.resourceType);
  if (filter.result !== undefined) query.where('result', filter.result);
  if (filter.from !== undefined) query.where('occurred_at', '>=', filter.from);
  if (filter.to !== undefined) query.where('occurred_at', '<', filter.to);
  // A prefix, exact on every database: no LIKE wildcards to escape, no case folding (SQLite's
  // LIKE ignores ASCII case). Lengths count characters on all three, as JS code points do.
  if (filter.resource !== undefined) query.whereRaw('substr(resource, 1, ?) = ?', [[...filter.resource].length, filter.resource]);
  return query;
}

export class AuditStore {
  constructor(private readonly knex: () => Knex) {}

  /** Stores entries; one already stored (a redelivered event) is left as it is. */
  async insert(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.knex()(TABLES.entries).insert(entries.map(rowOf)).onConflict(['event_id', 'part']).ignore();
  }

  /** One page, newest first, after `cursor` (exclusive). */
  async page(filter: AuditFilter, limit: number, cursor?: Cursor): Promise<AuditPage> {
    const query = applyFilter(this.knex()(TABLES.entries).select('*'), filter);
    if (cursor) {
      // `<=` first: the bound every database can use on the index; the OR settles ties by id.
      query.where('occurred_at', '<=', cursor.time).andWhere((q) => q.where('occurred_at', '<', cursor.time).orWhere('id', '<', cursor.id));
    }
    const rows = (await query.orderBy([{ column: 'occurred_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit + 1)) as Record<string, unknown>[];
    const items = rows.slice(0, limit).map(entryOf);
    const last = items[items.length - 1];
    return { items, next: rows.length > limit && last ? { time: last.time.getTime(), id: last.id } : undefined };
  }

  /** Every matching entry, newest first, in batches (one short query each: no long read). */
  async *scan(filter: AuditFilter, batch = 1000): AsyncGenerator<StoredEntry[]> {
    let cursor: Cursor | undefined;
    for (;;) {
      const page = await this.page(filter, batch, cursor);
      if (page.items.length > 0) yield page.items;
      if (!page.next) return;
      cursor = page.next;
    }
  }
}
