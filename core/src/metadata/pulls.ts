import type { Digest } from '@wharf/sdk';
import { chunks, type StoreContext } from './sql.js';
import { prepared, type SqliteConnection } from './sqlite-direct.js';

/**
 * Pull times, written in batches: a registry serving thousands of pulls a second must not pay
 * a database write per pull (Harbor had to add switches to turn its per-pull writes off). The
 * batch's rows are one statement per 300 pulls, and a time never moves backwards, so batches
 * from several nodes may arrive in any order.
 */

/** One pull (or the latest of several) of a manifest. */
export interface PullRecord {
  readonly repository: string;
  readonly digest: Digest;
  readonly at: Date;
}

const ROWS_PER_STATEMENT = 300;

/** The latest time per manifest: an UPDATE ... FROM must not match one row twice. */
function latestOf(batch: readonly PullRecord[]): Array<{ repository: string; digest: string; at: number }> {
  const latest = new Map<string, { repository: string; digest: string; at: number }>();
  for (const pull of batch) {
    const at = pull.at.getTime();
    if (!Number.isFinite(at)) throw new RangeError('pull time must be a valid date');
    const key = `${pull.repository}\n${pull.digest}`;
    const seen = latest.get(key);
    if (!seen || seen.at < at) latest.set(key, { repository: pull.repository, digest: pull.digest, at });
  }
  return [...latest.values()];
}

export async function recordPulls(ctx: StoreContext, batch: readonly PullRecord[]): Promise<void> {
  for (const chunk of chunks(latestOf(batch), ROWS_PER_STATEMENT)) {
    const bindings = chunk.flatMap((p) => [p.repository, p.digest, p.at]);
    await ctx.knex.raw(statement(ctx.dialect, chunk.length), bindings);
  }
}

const SQLITE_PULL_TIME = `update manifests set pulled_at = max(coalesce(pulled_at, 0), ?)
  where digest = ? and repository_id = (select id from repositories where name = ?)`;

/**
 * The same on SQLite's connection itself, synchronously, for the caller's better-sqlite3
 * transaction (the pull batch's): one cached statement per manifest, no SQL built per batch.
 */
export function recordPullsSqlite(db: SqliteConnection, batch: readonly PullRecord[]): void {
  const update = prepared(db, SQLITE_PULL_TIME);
  for (const p of latestOf(batch)) update.run(p.at, p.digest, p.repository);
}

function statement(dialect: StoreContext['dialect'], rows: number): string {
  if (dialect === 'postgres') {
    const values = Array.from({ length: rows }, () => '(cast(? as text), cast(? as text), cast(? as bigint))').join(', ');
    return `update manifests as m set pulled_at = greatest(coalesce(m.pulled_at, 0), v.at)
      from (values ${values}) as v(repository, digest, at), repositories as r
      where r.name = v.repository and m.repository_id = r.id and m.digest = v.digest`;
  }
  const derived = Array.from({ length: rows }, (_, i) => (i === 0 ? 'select ? as repository, ? as digest, ? as at' : 'select ?, ?, ?')).join(' union all ');
  if (dialect === 'mysql') {
    return `update manifests as m
      join repositories as r on r.id = m.repository_id
      join (${derived}) as v on v.repository = r.name and v.digest = m.digest
      set m.pulled_at = greatest(coalesce(m.pulled_at, 0), v.at)`;
  }
  return `update manifests set pulled_at = max(coalesce(manifests.pulled_at, 0), v.at)
    from (${derived}) as v join repositories as r on r.name = v.repository
    where manifests.repository_id = r.id and manifests.digest = v.digest`;
}
