import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { BlobInfo, Digest } from '@wharf/sdk';
import { bigint, date, rowOf, rowsOf, string, type Row } from './decode.js';
import { MAX_DIGEST, MAX_UPLOAD_ID, checkLength, chunks, inTransaction, shared, type StoreContext } from './sql.js';

/**
 * The blob deletion protocol (ADR 0029), database side. A blob row is in one of three states:
 * in use (no claim), reserved (an upload commit is moving its bytes into place: a live row in
 * `blob_reservations`) or claimed (`deleting_at` set: its links are gone and a collector deletes
 * its bytes, then the row). Every transition takes the blob row's lock first, so a writer and
 * a collector touching the same digest run one after the other.
 */

/** Outcome of {@link reserveBlob}: the reservation's holder id, or `deleting`. */
export type Reservation = { readonly holder: string } | 'deleting';

/** `FOR UPDATE` on PostgreSQL and MySQL; SQLite's write transaction already excludes everyone. */
export function exclusive<Q extends Knex.QueryBuilder>(ctx: StoreContext, query: Q): Q {
  return ctx.dialect === 'sqlite' ? query : (query.forUpdate() as Q);
}

/**
 * Reserves `digest` for one upload commit until `now + leaseMs`: creates the blob row when
 * absent and adds a reservation row under the blob row's lock, or answers `deleting` (changing
 * nothing) when a collector holds a claim on it. The caller moves the bytes into place only
 * after a reservation, and hands its holder to `linkBlob`, which ends it.
 */
export async function reserveBlob(ctx: StoreContext, digest: Digest, size: number, leaseMs: number, uploadId?: string): Promise<Reservation> {
  checkLength('digest', digest, MAX_DIGEST);
  if (uploadId !== undefined) checkLength('upload id', uploadId, MAX_UPLOAD_ID);
  const holder = randomUUID();
  return inTransaction(ctx, async (trx) => {
    const now = ctx.now();
    // Insert first: on SQLite it takes the write lock; elsewhere the row then exists to lock.
    // A row created here has every commit recorded in `blob_commits` (ADR 0037).
    await trx('blobs').insert({ digest, size, created_at: now, commits_recorded: true }).onConflict(['digest']).ignore();
    if ((await lockBlobForLink(ctx, trx, digest)) !== 'usable') return 'deleting';
    await trx('blob_reservations').insert({ holder, digest, until: now + leaseMs });
    // Recorded before the storage commit can write anything; the link clears the holder.
    if (uploadId !== undefined) {
      await trx('blob_commits').insert({ digest, upload_id: uploadId, holder }).onConflict(['digest', 'upload_id']).merge(['holder']);
    }
    // Expired reservations of this digest (commits that failed) go while we hold the lock.
    await trx('blob_reservations').where({ digest }).andWhere('until', '<', now).delete();
    return { holder };
  });
}

/** Ends a reservation without linking (the commit failed). */
export async function releaseReservation(ctx: StoreContext, holder: string): Promise<void> {
  await ctx.knex('blob_reservations').where({ holder }).delete();
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
 * 1. claim the rows (`deleting_at`), skipping claimed and too young ones; this locks them, so no
 *    reservation or link can be added until commit;
 * 2. lock every link of the claimed digests (a manifest PUT holding one with `FOR SHARE` commits first);
 * 3. re-read reservations and references with fresh statements (they see everything committed by
 *    now) and give back the claims on digests reserved, referenced or linked since `olderThanMs`;
 * 4. delete the links of the rest. The claimed rows are returned; their bytes may now go.
 */
export async function claimBlobs(ctx: StoreContext, candidates: readonly Digest[], olderThanMs: number, run: string): Promise<BlobInfo[]> {
  const digests = [...new Set(candidates)];
  if (digests.length === 0) return [];
  if (digests.length > 1000) throw new RangeError('at most 1000 blobs a claim');
  return inTransaction(ctx, async (trx) => {
    const now = ctx.now();
    await trx('blobs').whereIn('digest', digests).whereNull('deleting_at').andWhere('created_at', '<', olderThanMs).update({ deleting_at: now, deleting_run: run });
    const claimed = rowsOf(await trx('blobs').select('digest', 'size', 'created_at').whereIn('digest', digests).andWhere('deleting_run', run));
    if (claimed.length === 0) return [];
    const claimedDigests = claimed.map((r) => string(r, 'digest'));
    const links = rowsOf(await exclusive(ctx, trx('repository_blobs').select('digest', 'created_at').whereIn('digest', claimedDigests)));
    const keep = new Set(links.filter((l) => bigint(l, 'created_at') >= olderThanMs).map((l) => string(l, 'digest')));
    const reserved = rowsOf(await trx('blob_reservations').select('digest').whereIn('digest', claimedDigests).andWhere('until', '>=', now));
    for (const r of reserved) keep.add(string(r, 'digest'));
    const referenced = rowsOf(await shared(ctx, trx('manifest_blob_refs').select('digest').whereIn('digest', claimedDigests)));
    for (const r of referenced) keep.add(string(r, 'digest'));
    if (keep.size > 0) {
      await trx('blobs').whereIn('digest', [...keep]).update({ deleting_at: null, deleting_run: null });
    }
    const doomed = claimedDigests.filter((d) => !keep.has(d));
    if (doomed.length > 0) {
      await trx('repository_blobs').whereIn('digest', doomed).delete();
      await trx('blob_reservations').whereIn('digest', doomed).delete();
    }
    return claimed.filter((r) => !keep.has(string(r, 'digest'))).map(info);
  });
}

/** Claimed rows, oldest claim first: what an interrupted collector left (at most `limit`). */
export async function listClaimedBlobs(ctx: StoreContext, limit: number): Promise<BlobInfo[]> {
  const rows = rowsOf(await ctx.knex('blobs').select('digest', 'size', 'created_at').whereNotNull('deleting_at').orderBy('deleting_at').limit(limit));
  return rows.map(info);
}

/** Deletes claimed rows (and their commit records) once their bytes are gone. Rows no longer claimed stay. */
export async function dropClaimedBlobs(ctx: StoreContext, digests: readonly Digest[]): Promise<number> {
  let dropped = 0;
  for (const chunk of chunks(digests, 500)) {
    dropped += await inTransaction(ctx, async (trx) => {
      const claimed = trx('blobs').select('digest').whereIn('digest', chunk).whereNotNull('deleting_at');
      await trx('blob_commits').whereIn('digest', claimed).delete();
      return trx('blobs').whereIn('digest', chunk).whereNotNull('deleting_at').delete();
    });
  }
  return dropped;
}

/**
 * The uploads committed as each of `digests`, for those whose every commit is recorded and
 * finished (ADR 0037): the row was created since migration 009 and no commit of it was cut
 * off between its reservation and its link. Other digests are absent from the map; their
 * objects must be looked up.
 */
export async function committedUploads(ctx: StoreContext, digests: readonly Digest[]): Promise<Map<Digest, string[]>> {
  const out = new Map<Digest, string[]>();
  for (const chunk of chunks([...new Set(digests)], 500)) {
    const recorded = rowsOf(await ctx.knex('blobs').select('digest').whereIn('digest', chunk).andWhere('commits_recorded', true));
    if (recorded.length === 0) continue;
    const complete = new Set(recorded.map((r) => string(r, 'digest')));
    const uploads = new Map<Digest, string[]>();
    for (const r of rowsOf(await ctx.knex('blob_commits').select('digest', 'upload_id', 'holder').whereIn('digest', [...complete]))) {
      const digest = string(r, 'digest');
      if (r['holder'] !== null && r['holder'] !== undefined) complete.delete(digest);
      const list = uploads.get(digest) ?? [];
      list.push(string(r, 'upload_id'));
      uploads.set(digest, list);
    }
    for (const digest of complete) {
      const list = uploads.get(digest);
      if (list && list.length > 0) out.set(digest, list);
    }
  }
  return out;
}
