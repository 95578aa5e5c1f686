import type { BlobDetails, BlobInfo, ContentPage, ContentPageRequest, Digest } from '@wharf/sdk';
import { contentLimit, pageOf } from './content-pages.js';
import { toNumber, type StoreContext } from './sql.js';

/** Blob records, their links and references, for `coreServices.blobs` and garbage collection. */

interface BlobRow {
  digest: string;
  size: unknown;
  created_at: unknown;
}

const toInfo = (rows: readonly BlobRow[]): BlobInfo[] =>
  rows.map((r) => ({ digest: r.digest, size: toNumber(r.size), createdAt: new Date(toNumber(r.created_at)) }));

export async function getBlobDetails(ctx: StoreContext, digest: Digest): Promise<BlobDetails | undefined> {
  const { knex } = ctx;
  const row = (await knex('blobs').where({ digest }).first('digest', 'size', 'created_at')) as BlobRow | undefined;
  if (!row) return undefined;
  const [links, counted] = await Promise.all([
    knex('repository_blobs as rb').join('repositories as r', 'r.id', 'rb.repository_id').where('rb.digest', digest).select('r.name').orderBy('r.name') as Promise<Array<{ name: string }>>,
    knex('manifest_blob_refs').where({ digest }).count({ n: '*' }) as Promise<Array<{ n: unknown }>>,
  ]);
  const [info] = toInfo([row]);
  if (!info) throw new Error('unreachable: one row in, one blob out');
  return { ...info, repositories: links.map((l) => l.name), referenceCount: toNumber(counted[0]?.n ?? 0) };
}

export async function listBlobs(ctx: StoreContext, page: ContentPageRequest | undefined): Promise<ContentPage<BlobInfo>> {
  const limit = contentLimit(page);
  const query = ctx.knex('blobs').select('digest', 'size', 'created_at').orderBy('digest').limit(limit + 1);
  if (page?.cursor !== undefined) query.where('digest', '>', page.cursor);
  const rows = (await query) as BlobRow[];
  return pageOf(rows, limit, (r) => r.digest, toInfo);
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
    .whereNotExists((q) => q.select(knex.raw('1')).from('manifest_blob_refs as x').where('x.digest', knex.ref('b.digest')))
    .whereNotExists((q) =>
      q.select(knex.raw('1')).from('repository_blobs as rb').where('rb.digest', knex.ref('b.digest')).andWhere('rb.created_at', '>=', before),
    )
    .orderBy('b.digest')
    .limit(limit + 1);
  if (page?.cursor !== undefined) query.andWhere('b.digest', '>', page.cursor);
  const rows = (await query) as BlobRow[];
  return pageOf(rows, limit, (r) => r.digest, toInfo);
}
