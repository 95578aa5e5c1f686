import type { BlobDetails, BlobInfo, ContentPage, ContentPageRequest, Digest } from '@wharf/sdk';
import { contentLimit, pageOf } from './content-pages.js';
import { bigint, date, rowOf, rowsOf, string, type Row } from './decode.js';
import type { StoreContext } from './sql.js';

/** Blob records, their links and references, for `coreServices.blobs` and garbage collection. */

const blobInfo = (r: Row): BlobInfo => ({ digest: string(r, 'digest'), size: bigint(r, 'size'), createdAt: date(r, 'created_at') });

export async function getBlobDetails(ctx: StoreContext, digest: Digest): Promise<BlobDetails | undefined> {
  const { knex } = ctx;
  const row = rowOf(await knex('blobs').where({ digest }).first('digest', 'size', 'created_at'));
  if (!row) return undefined;
  const [links, counted] = (
    await Promise.all([
      knex('repository_blobs as rb').join('repositories as r', 'r.id', 'rb.repository_id').where('rb.digest', digest).select('r.name').orderBy('r.name'),
      knex('manifest_blob_refs').where({ digest }).count({ n: '*' }),
    ])
  ).map(rowsOf) as [Row[], Row[]];
  return {
    ...blobInfo(row),
    repositories: links.map((l) => string(l, 'name')),
    referenceCount: counted[0] ? bigint(counted[0], 'n') : 0,
  };
}

export async function listBlobs(ctx: StoreContext, page: ContentPageRequest | undefined): Promise<ContentPage<BlobInfo>> {
  const limit = contentLimit(page);
  const query = ctx.knex('blobs').select('digest', 'size', 'created_at').orderBy('digest').limit(limit + 1);
  if (page?.cursor !== undefined) query.where('digest', '>', page.cursor);
  const rows = rowsOf(await query).map(blobInfo);
  return pageOf(rows, limit, (r) => r.digest, (kept) => [...kept]);
}

/**
 * Blobs no manifest references, committed before `olderThan` and not linked to any repository
 * since then, in digest order. Walks the blobs' primary key; both "not exists" probes use the
 * indexes on the referenced digest (`manifest_blob_refs.digest`, `repository_blobs.digest`).
 */
export async function listUnreferencedBlobs(ctx: StoreContext, olderThan: Date, page: ContentPageRequest | undefined): Promise<ContentPage<BlobInfo>> {
  const limit = contentLimit(page);
  const before = olderThan.getTime();
  if (!Number.isFinite(before)) throw new RangeError('olderThan must be a valid date');
  const { knex } = ctx;
  const query = knex('blobs as b')
    .select('b.digest', 'b.size', 'b.created_at')
    .where('b.created_at', '<', before)
    // Not `whereNull`: no index may serve this test, or SQLite walks `blobs_deleting_at` (every
    // unclaimed row) and sorts each page instead of walking the primary key.
    .whereRaw('coalesce(b.deleting_at, 0) = 0')
    .whereNotExists((q) => q.select(knex.raw('1')).from('manifest_blob_refs as x').where('x.digest', knex.ref('b.digest')))
    .whereNotExists((q) =>
      q.select(knex.raw('1')).from('repository_blobs as rb').where('rb.digest', knex.ref('b.digest')).andWhere('rb.created_at', '>=', before),
    )
    .orderBy('b.digest')
    .limit(limit + 1);
  if (page?.cursor !== undefined) query.andWhere('b.digest', '>', page.cursor);
  const rows = rowsOf(await query).map(blobInfo);
  return pageOf(rows, limit, (r) => r.digest, (kept) => [...kept]);
}
