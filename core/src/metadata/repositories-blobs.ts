import type { Knex } from 'knex';
import type { Digest } from '@wharf/sdk';
import type { PageRequest, RecordInTransaction } from './types.js';
import {
  MAX_DIGEST,
  MAX_REPOSITORY_NAME,
  checkLength,
  inTransaction,
  insertIfAbsent,
  insertManyIfAbsent,
  pageSize,
  shared,
  type StoreContext,
} from './sql.js';
import { bigint, rowOf, rowsOf, string } from './decode.js';
import { lockBlobForLink } from './blob-deletion.js';

/**
 * Repositories and blob links. A repository comes into being with its first blob link or
 * manifest; blobs are recorded once globally and linked per repository.
 */

/**
 * The repository's id, creating the row when absent. Called first in write transactions: on
 * SQLite the insert takes the write lock before anything is read.
 */
export async function ensureRepository(ctx: StoreContext, trx: Knex.Transaction, name: string): Promise<number> {
  checkLength('repository name', name, MAX_REPOSITORY_NAME);
  // A concurrent repository delete can remove the row between "it exists" and the select:
  // then it is absent again, and the next insert creates it.
  for (let attempt = 0; attempt < 3; attempt++) {
    const inserted = await insertIfAbsent(ctx, trx, 'repositories', { name, created_at: ctx.now() }, ['name']);
    if (inserted !== undefined) return inserted;
    const row = rowOf(await shared(ctx, trx('repositories').select('id').where({ name })).first());
    if (row) return bigint(row, 'id');
  }
  throw new Error(`repository ${name} vanished three times while it was being written`);
}

/** The repository's id, or `undefined` when it does not exist. */
export async function repositoryId(db: Knex | Knex.Transaction, name: string): Promise<number | undefined> {
  const row = rowOf(await db('repositories').select('id').where({ name }).first());
  return row ? bigint(row, 'id') : undefined;
}

export async function listRepositories(ctx: StoreContext, page: PageRequest): Promise<string[]> {
  const n = pageSize(page.n);
  if (n === 0) return [];
  const query = ctx.knex('repositories').select('name').orderBy('name').limit(n);
  if (page.last !== undefined) query.where('name', '>', page.last);
  return rowsOf(await query).map((r) => string(r, 'name'));
}

/** Most repositories one {@link listNamespaceRepositories} call returns. */
export const MAX_NAMESPACE_PAGE = 1000;

/** `LIKE` pattern for names starting with `prefix`, `!` escaping the wildcards (same on all three databases). */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/**
 * Repositories named `<namespace>/...`, one page in byte-wise order, and how many there are.
 * The `LIKE` states the match; the range on the same prefix (`'ns/' <= name < 'ns0'`, as `0`
 * follows `/`) lets every database use the unique index on `name` and keeps the match
 * case-sensitive on SQLite, whose `LIKE` ignores ASCII case.
 */
export async function listNamespaceRepositories(
  ctx: StoreContext,
  namespace: string,
  page: { readonly page: number; readonly pageSize: number },
): Promise<{ items: string[]; total: number }> {
  if (typeof namespace !== 'string' || namespace === '' || namespace.endsWith('/')) throw new RangeError(`invalid namespace "${String(namespace)}"`);
  if (!Number.isInteger(page.page) || page.page < 1) throw new RangeError('page must be an integer from 1');
  if (!Number.isInteger(page.pageSize) || page.pageSize < 1 || page.pageSize > MAX_NAMESPACE_PAGE) {
    throw new RangeError(`pageSize must be an integer from 1 to ${MAX_NAMESPACE_PAGE}`);
  }
  const prefix = `${namespace}/`;
  checkLength('namespace', prefix, MAX_REPOSITORY_NAME);
  const inNamespace = () =>
    ctx
      .knex('repositories')
      .whereRaw(`name like ? escape '!'`, [prefixPattern(prefix)])
      .andWhere('name', '>=', prefix)
      .andWhere('name', '<', `${namespace}0`);
  const [counted] = rowsOf(await inNamespace().count({ n: '*' }));
  const total = counted ? bigint(counted, 'n') : 0;
  if (total === 0 || (page.page - 1) * page.pageSize >= total) return { items: [], total };
  const rows = rowsOf(
    await inNamespace()
      .select('name')
      .orderBy('name')
      .limit(page.pageSize)
      .offset((page.page - 1) * page.pageSize),
  );
  return { items: rows.map((r) => string(r, 'name')), total };
}

export async function repositoryExists(ctx: StoreContext, name: string): Promise<boolean> {
  return (await repositoryId(ctx.knex, name)) !== undefined;
}

/**
 * Links a blob to a repository (refreshing the link's time), under the blob row's lock
 * (ADR 0029). `mount`: the row must already exist. Resolves `false`, changing nothing, when
 * the row is absent on a mount or a collector has claimed it for deletion.
 */
export async function linkBlob(
  ctx: StoreContext,
  repository: string,
  digest: Digest,
  size: number,
  record?: RecordInTransaction,
  options?: { readonly mount?: boolean; readonly reservation?: string },
): Promise<boolean> {
  checkLength('digest', digest, MAX_DIGEST);
  return inTransaction(ctx, async (trx) => {
    const repoId = await ensureRepository(ctx, trx, repository);
    const now = ctx.now();
    let state = await lockBlobForLink(ctx, trx, digest);
    if (state === 'absent' && !options?.mount) {
      await insertManyIfAbsent(trx, 'blobs', [{ digest, size, created_at: now }], ['digest']);
      state = await lockBlobForLink(ctx, trx, digest);
    }
    if (state !== 'usable') return false;
    await trx('repository_blobs')
      .insert({ repository_id: repoId, digest, created_at: now })
      .onConflict(['repository_id', 'digest'])
      .merge(['created_at']);
    if (options?.reservation !== undefined) {
      await trx('blob_reservations').where({ holder: options.reservation }).delete();
      // The storage commit behind this reservation finished: its record is complete (ADR 0037).
      // By digest first: the primary key's prefix, so no scan of every upload ever recorded.
      await trx('blob_commits').where({ digest, holder: options.reservation }).update({ holder: null });
    }
    await record?.(trx);
    return true;
  });
}

export async function getLinkedBlob(
  ctx: StoreContext,
  repository: string,
  digest: Digest,
): Promise<{ size: number } | undefined> {
  const row = await ctx
    .knex('repository_blobs as rb')
    .join('repositories as r', 'r.id', 'rb.repository_id')
    .join('blobs as b', 'b.digest', 'rb.digest')
    .where('r.name', repository)
    .andWhere('rb.digest', digest)
    .first('b.size');
  const found = rowOf(row);
  return found ? { size: bigint(found, 'size') } : undefined;
}

export async function getBlob(ctx: StoreContext, digest: Digest): Promise<{ size: number } | undefined> {
  // A blob row without links is garbage awaiting collection: not mountable.
  const row = await ctx
    .knex('blobs as b')
    .where('b.digest', digest)
    .whereNull('b.deleting_at')
    .whereExists((q) => q.select(ctx.knex.raw('1')).from('repository_blobs as rb').where('rb.digest', ctx.knex.ref('b.digest')))
    .first('b.size');
  const found = rowOf(row);
  return found ? { size: bigint(found, 'size') } : undefined;
}

export async function unlinkBlob(ctx: StoreContext, repository: string, digest: Digest): Promise<boolean> {
  const repoId = await repositoryId(ctx.knex, repository);
  if (repoId === undefined) return false;
  const deleted = await ctx.knex('repository_blobs').where({ repository_id: repoId, digest }).delete();
  return deleted > 0;
}
