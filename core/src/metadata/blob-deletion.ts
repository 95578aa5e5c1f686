import type { Knex } from 'knex';
import type { BlobInfo, Digest } from '@wharf/sdk';
import { bigint, date, rowOf, rowsOf, string, type Row } from './decode.js';
import { MAX_DIGEST, checkLength, chunks, inTransaction, shared, type StoreContext } from './sql.js';

/**
 * The blob deletion protocol (ADR 0029), database side. A blob row is in one of three states:
 * in use (no claim), reserved (an upload commit is moving its bytes into place until
 * `reserved_until`) or claimed (`deleting_at` set: its links are gone and a collector deletes
 * its bytes, then the row). Every transition takes the blob row's lock first, so a writer and
 * a collector touching the same digest run one after the other.
 */

/** Outcome of {@link reserveBlob}. */
export type Reservation = 'reserved' | 'deleting';

/** `FOR UPDATE` on PostgreSQL and MySQL; SQLite's write transaction already excludes everyone. */
export function exclusive<Q extends Knex.QueryBuilder>(ctx: StoreContext, query: Q): Q {
  return ctx.dialect === 'sqlite' ? query : (query.forUpdate() as Q);
}

/**
 * Reserves `digest` for an upload commit until `now + leaseMs`: creates the row when absent,
 * extends the reservation when in use, and answers `deleting` (changing nothing) when a
 * collector holds a claim on it. The caller moves the bytes into place only after `reserved`.
 */
export async function reserveBlob(ctx: StoreContext, digest: Digest, size: number, leaseMs: number): Promise<Reservation> {
  checkLength('digest', digest, MAX_DIGEST);
  return inTransaction(ctx, async (trx) => {
    const now = ctx.now();
    // Insert first: on SQLite it takes the write lock; elsewhere the row then exists to lock.
    await trx('blobs').insert({ digest, size, created_at: now, reserved_until: now + leaseMs }).onConflict(['digest']).ignore();
    const row = rowOf(await exclusive(ctx, trx('blobs').select('deleting_at', 'reserved_until').where({ digest })).first());
    if (!row) throw new Error(`blob ${digest} vanished while it was being reserved`);
    if (row['deleting_at'] !== null && row['deleting_at'] !== undefined) return 'deleting';
    const until = now + leaseMs;
    const current = row['reserved_until'] === null || row['reserved_until'] === undefined ? 0 : bigint(row, 'reserved_until');
    if (current < until) await trx('blobs').where({ digest }).update({ reserved_until: until });
    return 'reserved';
  });
}

/**
 * Locks the blob row inside a link transaction. `absent`: no row; `deleting`: claimed by a
 * collector (the caller must not link it); `usable`: linking is safe until commit.
 */
export async function lockBlobForLink(ctx: StoreContext, trx: Knex.Transaction, digest: Digest): Promise<'absent' | 'deleting' | 'usable'> {
  const row = rowOf(await exclusive(ctx, trx('blobs').select('deleting_at').where({ digest })).first());
  if (!row) return 'absent';
  return row['deleting_at'] === null || row['deleting_at'] === undefined ? 'usable' : 'deleting';
}

const info = (r: Row): BlobInfo => ({ digest: string(r, 'digest'), size: bigint(r, 'size'), createdAt: date(r, 'created_at') });

/**
 * Claims those of `candidates` that are still garbage for run `run`, in one transaction:
 * 1. claim the rows (`deleting_at`), skipping reserved, claimed and too young ones; this locks them,
 *    so no link can be added until commit;
 * 2. lock every link of the claimed digests (a manifest PUT holding one with `FOR SHARE` commits first);
 * 3. re-read the references with a fresh statement (it sees every manifest committed by now) and
 *    give back the claims on digests that are referenced or linked since `olderThanMs`;
 * 4. delete the links of the rest. The claimed rows are returned; their bytes may now go.
 */
export async function claimBlobs(ctx: StoreContext, candidates: readonly Digest[], olderThanMs: number, run: string): Promise<BlobInfo[]> {
  const digests = [...new Set(candidates)];
  if (digests.length === 0) return [];
  if (digests.length > 1000) throw new RangeError('at most 1000 blobs a claim');
  return inTransaction(ctx, async (trx) => {
    const now = ctx.now();
    await trx('blobs')
      .whereIn('digest', digests)
      .whereNull('deleting_at')
      .andWhere('created_at', '<', olderThanMs)
      .andWhere((q) => q.whereNull('reserved_until').orWhere('reserved_until', '<', now))
      .update({ deleting_at: now, deleting_run: run });
    const claimed = rowsOf(await trx('blobs').select('digest', 'size', 'created_at').whereIn('digest', digests).andWhere('deleting_run', run));
    if (claimed.length === 0) return [];
    const claimedDigests = claimed.map((r) => string(r, 'digest'));
    const links = rowsOf(await exclusive(ctx, trx('repository_blobs').select('digest', 'created_at').whereIn('digest', claimedDigests)));
    const keep = new Set(links.filter((l) => bigint(l, 'created_at') >= olderThanMs).map((l) => string(l, 'digest')));
    const referenced = rowsOf(await shared(ctx, trx('manifest_blob_refs').select('digest').whereIn('digest', claimedDigests)));
    for (const r of referenced) keep.add(string(r, 'digest'));
    if (keep.size > 0) {
      await trx('blobs').whereIn('digest', [...keep]).update({ deleting_at: null, deleting_run: null });
    }
    const doomed = claimedDigests.filter((d) => !keep.has(d));
    if (doomed.length > 0) await trx('repository_blobs').whereIn('digest', doomed).delete();
    return claimed.filter((r) => !keep.has(string(r, 'digest'))).map(info);
  });
}

/** Claimed rows, oldest claim first: what an interrupted collector left (at most `limit`). */
export async function listClaimedBlobs(ctx: StoreContext, limit: number): Promise<BlobInfo[]> {
  const rows = rowsOf(await ctx.knex('blobs').select('digest', 'size', 'created_at').whereNotNull('deleting_at').orderBy('deleting_at').limit(limit));
  return rows.map(info);
}

/** Deletes claimed rows once their bytes are gone. Rows no longer claimed stay. */
export async function dropClaimedBlobs(ctx: StoreContext, digests: readonly Digest[]): Promise<number> {
  let dropped = 0;
  for (const chunk of chunks(digests, 500)) {
    dropped += await inTransaction(ctx, (trx) => trx('blobs').whereIn('digest', chunk).whereNotNull('deleting_at').delete());
  }
  return dropped;
}
