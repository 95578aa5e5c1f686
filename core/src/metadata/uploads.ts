import type { UploadRecord } from './types.js';
import { MAX_REPOSITORY_NAME, MAX_UPLOAD_ID, checkLength, pageSize, type StoreContext } from './sql.js';
import { bigint, date, json, rowOf, rowsOf, string, type Row } from './decode.js';

/**
 * Upload sessions, shared by all nodes: an upload started on one node continues on another.
 * Writers serialize through a lease (holder + expiry) and a compare-and-set on the size, both
 * single conditional UPDATEs whose affected row count is the answer.
 */

type UploadState = UploadRecord['state'];

function checkState(state: UploadState): void {
  if (!Number.isSafeInteger(state.size) || state.size < 0) {
    throw new RangeError(`upload state size must be a non-negative integer, got ${String(state.size)}`);
  }
}

function toRecord(row: Row): UploadRecord {
  const parsed = json(row, 'state');
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('database column "state": expected a JSON object');
  return {
    id: string(row, 'id'),
    repository: string(row, 'repository'),
    // The column is the truth the compare-and-set checked.
    state: { ...(parsed as Record<string, unknown>), size: bigint(row, 'size') },
    createdAt: date(row, 'created_at'),
    updatedAt: date(row, 'updated_at'),
  };
}

export async function createUpload(
  ctx: StoreContext,
  upload: { id: string; repository: string; state: UploadState; owner?: string | undefined },
): Promise<void> {
  checkLength('upload id', upload.id, MAX_UPLOAD_ID);
  checkLength('repository name', upload.repository, MAX_REPOSITORY_NAME);
  checkState(upload.state);
  const now = ctx.now();
  await ctx.knex('uploads').insert({
    id: upload.id,
    repository: upload.repository,
    owner: upload.owner === undefined ? null : upload.owner.slice(0, 255),
    state: JSON.stringify(upload.state),
    size: upload.state.size,
    lease_holder: null,
    lease_until: null,
    created_at: now,
    updated_at: now,
  });
}

/** How many uploads are open in a repository, or held by an owner. */
export async function countOpenUploads(ctx: StoreContext, where: { repository: string } | { owner: string }): Promise<number> {
  const row = rowOf(await ctx.knex('uploads').where('repository' in where ? { repository: where.repository } : { owner: where.owner.slice(0, 255) }).count({ n: '*' }).first());
  return row ? bigint(row, 'n') : 0;
}

export async function getUpload(ctx: StoreContext, id: string): Promise<UploadRecord | undefined> {
  const row = rowOf(await ctx.knex('uploads').where({ id }).first('id', 'repository', 'state', 'size', 'created_at', 'updated_at'));
  return row ? toRecord(row) : undefined;
}

export async function updateUpload(
  ctx: StoreContext,
  id: string,
  expectedSize: number,
  state: UploadState,
): Promise<boolean> {
  checkState(state);
  const updated = await ctx
    .knex('uploads')
    .where({ id, size: expectedSize })
    .update({ state: JSON.stringify(state), size: state.size, updated_at: ctx.now() });
  return updated > 0;
}

export async function acquireUploadLease(ctx: StoreContext, id: string, holder: string, ttlMs: number): Promise<boolean> {
  const now = ctx.now();
  // Free, expired, or already ours (renewal): one conditional UPDATE, no read-then-write race.
  const updated = await ctx
    .knex('uploads')
    .where({ id })
    .andWhere((q) => q.whereNull('lease_holder').orWhere('lease_holder', holder).orWhere('lease_until', '<=', now))
    .update({ lease_holder: holder, lease_until: now + Math.max(0, Math.floor(ttlMs)), updated_at: now });
  return updated > 0;
}

export async function releaseUploadLease(ctx: StoreContext, id: string, holder: string): Promise<void> {
  await ctx.knex('uploads').where({ id, lease_holder: holder }).update({ lease_holder: null, lease_until: null });
}

export async function deleteUpload(ctx: StoreContext, id: string): Promise<void> {
  await ctx.knex('uploads').where({ id }).delete();
}

/** Uploads untouched since `before`, oldest first; uploads under a live lease are in use, not stale. */
export async function listStaleUploads(ctx: StoreContext, before: Date, limit: number): Promise<UploadRecord[]> {
  const n = pageSize(limit);
  if (n === 0) return [];
  const now = ctx.now();
  const rows = rowsOf(
    await ctx
      .knex('uploads')
      .select('id', 'repository', 'state', 'size', 'created_at', 'updated_at')
      .where('updated_at', '<', before.getTime())
      .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<=', now))
      .orderBy([{ column: 'updated_at' }, { column: 'id' }])
      .limit(n),
  );
  return rows.map(toRecord);
}
