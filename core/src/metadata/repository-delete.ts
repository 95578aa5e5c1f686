import type { Digest } from '@wharf/sdk';
import type { RecordInTransaction } from './types.js';
import { chunks, inTransaction, toNumber, type StoreContext } from './sql.js';

/**
 * Deleting a whole repository: its tags, manifests, references, blob links and its row, in one
 * transaction with the events that describe it. The blobs themselves stay (records and bytes):
 * unlinked and unreferenced, they are garbage collection's to remove.
 */

export type DeleteRepositoryResult =
  | { readonly outcome: 'deleted' }
  | { readonly outcome: 'unknown' }
  /** Manifests other than the expected ones were found (a push raced the delete): nothing changed. */
  | { readonly outcome: 'changed' };

/** Thrown inside the transaction to roll it back when the repository changed under us. */
class RepositoryChanged extends Error {}

/**
 * Deletes the repository when it holds exactly the manifests `expected` (the ones the policy
 * gates were asked about); otherwise changes nothing and answers `changed`. The repository row is
 * locked first (`FOR UPDATE`), so a concurrent manifest put waits for the outcome.
 */
export async function deleteRepository(ctx: StoreContext, name: string, expected: readonly Digest[], record?: RecordInTransaction): Promise<DeleteRepositoryResult> {
  try {
    return await inTransaction(ctx, async (trx): Promise<DeleteRepositoryResult> => {
      // On SQLite a write first takes the database's write lock at once (see inTransaction).
      if (ctx.dialect === 'sqlite') await trx('repositories').where({ name }).update({ name });
      const locked = trx('repositories').where({ name }).select('id');
      const row = (await (ctx.dialect === 'sqlite' ? locked : locked.forUpdate()).first()) as { id: unknown } | undefined;
      if (!row) return { outcome: 'unknown' };
      const id = toNumber(row.id);
      const manifests = (await trx('manifests').where('repository_id', id).select('id', 'digest')) as Array<{ id: unknown; digest: string }>;
      const wanted = new Set<string>(expected);
      if (manifests.length !== wanted.size || manifests.some((m) => !wanted.has(m.digest))) throw new RepositoryChanged();
      await trx('tags').where('repository_id', id).delete();
      for (const ids of chunks(manifests.map((m) => toNumber(m.id)), 500)) {
        await trx('manifest_blob_refs').whereIn('manifest_id', ids).delete();
        await trx('manifest_manifest_refs').whereIn('manifest_id', ids).delete();
        await trx('manifests').whereIn('id', ids).delete();
      }
      await trx('repository_blobs').where('repository_id', id).delete();
      await trx('repositories').where('id', id).delete();
      await record?.(trx);
      return { outcome: 'deleted' };
    });
  } catch (err) {
    if (err instanceof RepositoryChanged) return { outcome: 'changed' };
    throw err;
  }
}
