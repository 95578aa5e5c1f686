import type { Knex } from 'knex';
import type { Digest } from '@wharf/sdk';
import type { ManifestInput, ManifestRecord, PageRequest, PutManifestResult, RecordInTransaction } from './types.js';
import { ensureRepository, repositoryId } from './repositories-blobs.js';
import {
  MAX_DIGEST,
  MAX_TAG,
  checkLength,
  chunks,
  inTransaction,
  insertIfAbsent,
  insertManyIfAbsent,
  pageSize,
  shared,
  type StoreContext,
} from './sql.js';
import { bigint, bytes, date, optionalString, rowOf, rowsOf, string } from './decode.js';

/** Manifests, their references and tags. */

/** Thrown inside the put transaction to roll it back and carry the answer out. */
class MissingReferences extends Error {
  constructor(readonly result: Extract<PutManifestResult, { ok: false }>) {
    super('manifest references are missing');
  }
}

export async function putManifest(ctx: StoreContext, input: ManifestInput, record?: RecordInTransaction): Promise<PutManifestResult> {
  checkLength('digest', input.digest, MAX_DIGEST);
  if (input.subject !== undefined) checkLength('subject digest', input.subject, MAX_DIGEST);
  if (input.tag !== undefined) checkLength('tag', input.tag, MAX_TAG);
  const blobRefs = [...new Set(input.blobRefs)];
  const manifestRefs = [...new Set(input.manifestRefs)];
  try {
    return await inTransaction(ctx, async (trx): Promise<PutManifestResult> => {
      const repoId = await ensureRepository(ctx, trx, input.repository);
      const missingBlobs = input.lazyReferences ? [] : await missingDigests(ctx, trx, 'repository_blobs', repoId, blobRefs);
      const missingManifests = input.lazyReferences ? [] : await missingDigests(ctx, trx, 'manifests', repoId, manifestRefs);
      if (missingBlobs.length > 0 || missingManifests.length > 0) {
        throw new MissingReferences({ ok: false, missingBlobs, missingManifests });
      }
      const now = ctx.now();
      const insertedId = await insertIfAbsent(
        ctx,
        trx,
        'manifests',
        {
          repository_id: repoId,
          digest: input.digest,
          media_type: input.mediaType,
          artifact_type: input.artifactType ?? null,
          size: input.payload.length,
          payload: input.payload,
          subject_digest: input.subject ?? null,
          annotations: input.annotations === undefined ? null : JSON.stringify(input.annotations),
          created_at: now,
        },
        ['repository_id', 'digest'],
      );
      let manifestId: number;
      if (insertedId !== undefined) {
        manifestId = insertedId;
        // A digest's content never changes, so references are written once, with the row.
        const blobRows = blobRefs.map((digest) => ({ manifest_id: manifestId, digest }));
        await insertManyIfAbsent(trx, 'manifest_blob_refs', blobRows, ['manifest_id', 'digest']);
        const childRows = manifestRefs.map((child) => ({ manifest_id: manifestId, child_digest: child }));
        await insertManyIfAbsent(trx, 'manifest_manifest_refs', childRows, ['manifest_id', 'child_digest']);
      } else {
        const existing = rowOf(await shared(ctx, trx('manifests').select('id').where({ repository_id: repoId, digest: input.digest })).first());
        if (!existing) throw new Error(`manifest ${input.digest} vanished while it was being written`);
        manifestId = bigint(existing, 'id');
      }
      if (input.tag !== undefined) {
        await trx('tags')
          .insert({ repository_id: repoId, name: input.tag, manifest_id: manifestId, updated_at: now })
          .onConflict(['repository_id', 'name'])
          .merge(['manifest_id', 'updated_at']);
      }
      await record?.(trx);
      return { ok: true, created: insertedId !== undefined };
    });
  } catch (err) {
    if (err instanceof MissingReferences) return err.result;
    throw err;
  }
}

/** Which of `digests` have no row in `table` for the repository (read with a share lock). */
async function missingDigests(
  ctx: StoreContext,
  trx: Knex.Transaction,
  table: 'repository_blobs' | 'manifests',
  repoId: number,
  digests: readonly Digest[],
): Promise<Digest[]> {
  if (digests.length === 0) return [];
  const found = new Set<string>();
  for (const chunk of chunks(digests, 500)) {
    const rows = rowsOf(await shared(ctx, trx(table).select('digest').where('repository_id', repoId).whereIn('digest', chunk)));
    for (const row of rows) found.add(string(row, 'digest'));
  }
  return digests.filter((d) => !found.has(d));
}

export async function getManifest(
  ctx: StoreContext,
  repository: string,
  digest: Digest,
): Promise<ManifestRecord | undefined> {
  const row = rowOf(
    await ctx
      .knex('manifests as m')
      .join('repositories as r', 'r.id', 'm.repository_id')
      .where('r.name', repository)
      .andWhere('m.digest', digest)
      .first('m.digest', 'm.media_type', 'm.artifact_type', 'm.size', 'm.payload', 'm.subject_digest', 'm.created_at'),
  );
  if (!row) return undefined;
  return {
    repository,
    digest: string(row, 'digest'),
    mediaType: string(row, 'media_type'),
    artifactType: optionalString(row, 'artifact_type'),
    size: bigint(row, 'size'),
    payload: bytes(row, 'payload'),
    subject: optionalString(row, 'subject_digest'),
    createdAt: date(row, 'created_at'),
  };
}

export async function resolveTag(ctx: StoreContext, repository: string, tag: string): Promise<Digest | undefined> {
  const row = rowOf(
    await ctx
      .knex('tags as t')
      .join('repositories as r', 'r.id', 't.repository_id')
      .join('manifests as m', 'm.id', 't.manifest_id')
      .where('r.name', repository)
      .andWhere('t.name', tag)
      .first('m.digest'),
  );
  return row ? string(row, 'digest') : undefined;
}

export async function listTags(ctx: StoreContext, repository: string, page: PageRequest): Promise<string[] | undefined> {
  const repoId = await repositoryId(ctx.knex, repository);
  if (repoId === undefined) return undefined;
  const n = pageSize(page.n);
  if (n === 0) return [];
  const query = ctx.knex('tags').select('name').where('repository_id', repoId).orderBy('name').limit(n);
  if (page.last !== undefined) query.andWhere('name', '>', page.last);
  return rowsOf(await query).map((r) => string(r, 'name'));
}

export async function deleteManifest(ctx: StoreContext, repository: string, digest: Digest, record?: RecordInTransaction): Promise<boolean> {
  return inTransaction(ctx, async (trx) => {
    const target = trx('manifests as m')
      .join('repositories as r', 'r.id', 'm.repository_id')
      .where('r.name', repository)
      .andWhere('m.digest', digest)
      .select('m.id');
    // Write first (SQLite then holds the write lock for the rest of the transaction).
    await trx('tags').whereIn('manifest_id', target.clone()).delete();
    const row = rowOf(await target.clone().first());
    if (!row) return false;
    const id = bigint(row, 'id');
    await trx('manifest_blob_refs').where('manifest_id', id).delete();
    await trx('manifest_manifest_refs').where('manifest_id', id).delete();
    await trx('manifests').where('id', id).delete();
    await record?.(trx);
    return true;
  });
}

export async function deleteTag(ctx: StoreContext, repository: string, tag: string, record?: RecordInTransaction): Promise<boolean> {
  const repoId = await repositoryId(ctx.knex, repository);
  if (repoId === undefined) return false;
  if (!record) return (await ctx.knex('tags').where({ repository_id: repoId, name: tag }).delete()) > 0;
  return inTransaction(ctx, async (trx) => {
    const deleted = await trx('tags').where({ repository_id: repoId, name: tag }).delete();
    if (deleted > 0) await record(trx);
    return deleted > 0;
  });
}
