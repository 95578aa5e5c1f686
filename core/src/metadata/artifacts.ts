import type { ArtifactInfo, ContentPage, ContentPageRequest, Digest, ManifestReference } from '@wharf/sdk';
import { contentLimit, pageOf } from './content-pages.js';
import { repositoryId } from './repositories-blobs.js';
import { bigint, date, oneOf, optionalBigint, optionalString, rowOf, rowsOf, string, type Row } from './decode.js';
import type { StoreContext } from './sql.js';

/**
 * Artifacts (manifests with their tags, sizes, children and times) and the reverse references
 * ("who uses this digest?") for `coreServices.artifacts`. A page costs four queries: the
 * manifests, then tags, blob sizes and children for all of them at once.
 */

export interface ManifestRow {
  readonly id: number;
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly size: number;
  readonly subject: string | undefined;
  readonly createdAt: Date;
  readonly pulledAt: number | undefined;
}

export const MANIFEST_COLUMNS = ['id', 'digest', 'media_type', 'artifact_type', 'size', 'subject_digest', 'created_at', 'pulled_at'];

export function manifestRow(r: Row): ManifestRow {
  return {
    id: bigint(r, 'id'),
    digest: string(r, 'digest'),
    mediaType: string(r, 'media_type'),
    artifactType: optionalString(r, 'artifact_type'),
    size: bigint(r, 'size'),
    subject: optionalString(r, 'subject_digest'),
    createdAt: date(r, 'created_at'),
    pulledAt: optionalBigint(r, 'pulled_at'),
  };
}

export async function listArtifacts(ctx: StoreContext, repository: string, page: ContentPageRequest | undefined): Promise<ContentPage<ArtifactInfo>> {
  const limit = contentLimit(page);
  const repoId = await repositoryId(ctx.knex, repository);
  if (repoId === undefined) return { items: [], next: undefined };
  const query = ctx.knex('manifests').where('repository_id', repoId).select(MANIFEST_COLUMNS).orderBy('digest').limit(limit + 1);
  if (page?.cursor !== undefined) query.andWhere('digest', '>', page.cursor);
  const rows = rowsOf(await query).map(manifestRow);
  const artifacts = await describe(ctx, repository, rows.slice(0, limit));
  return pageOf(rows, limit, (r) => r.digest, () => artifacts);
}

export async function getArtifact(ctx: StoreContext, repository: string, digest: Digest): Promise<ArtifactInfo | undefined> {
  const row = rowOf(
    await ctx
      .knex('manifests as m')
      .join('repositories as r', 'r.id', 'm.repository_id')
      .where('r.name', repository)
      .andWhere('m.digest', digest)
      .first(MANIFEST_COLUMNS.map((c) => `m.${c}`)),
  );
  if (!row) return undefined;
  const [artifact] = await describe(ctx, repository, [manifestRow(row)]);
  return artifact;
}

export async function describe(ctx: StoreContext, repository: string, rows: readonly ManifestRow[]): Promise<ArtifactInfo[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const { knex } = ctx;
  const [tags, sizes, children] = (
    await Promise.all([
      knex('tags').whereIn('manifest_id', ids).select('manifest_id', 'name').orderBy('name'),
      knex('manifest_blob_refs as x')
        .join('blobs as b', 'b.digest', 'x.digest')
        .whereIn('x.manifest_id', ids)
        .groupBy('x.manifest_id')
        .select('x.manifest_id', knex.raw('sum(b.size) as bytes')),
      knex('manifest_manifest_refs').whereIn('manifest_id', ids).select('manifest_id', 'child_digest').orderBy('child_digest'),
    ])
  ).map(rowsOf) as [Row[], Row[], Row[]];
  const grouped = (list: Row[], column: string) => {
    const out = new Map<number, string[]>();
    for (const r of list) {
      const id = bigint(r, 'manifest_id');
      out.set(id, [...(out.get(id) ?? []), string(r, column)]);
    }
    return out;
  };
  const tagsOf = grouped(tags, 'name');
  const childrenOf = grouped(children, 'child_digest');
  // SUM is a string on PostgreSQL (numeric) and MySQL (DECIMAL), a number on SQLite.
  const blobBytes = new Map(sizes.map((r) => [bigint(r, 'manifest_id'), bigint(r, 'bytes')]));
  return rows.map((row) => ({
    repository,
    digest: row.digest,
    mediaType: row.mediaType,
    artifactType: row.artifactType,
    manifestSize: row.size,
    size: row.size + (blobBytes.get(row.id) ?? 0),
    tags: tagsOf.get(row.id) ?? [],
    subject: row.subject,
    children: childrenOf.get(row.id) ?? [],
    pushedAt: row.createdAt,
    pulledAt: row.pulledAt === undefined ? undefined : new Date(row.pulledAt),
  }));
}

const RELATIONS = ['blob', 'child', 'subject'] as const;
type Relation = (typeof RELATIONS)[number];

/**
 * Manifests in every repository that reference `digest` as a blob, an index child or a
 * subject, ordered by manifest id then relation (the cursor is `<id>:<relation>`). Each branch
 * uses an index on the referenced digest.
 */
export async function listReferencing(ctx: StoreContext, digest: Digest, page: ContentPageRequest | undefined): Promise<ContentPage<ManifestReference>> {
  const limit = contentLimit(page);
  const { knex } = ctx;
  // A constant from RELATIONS, not input: a literal keeps every database's type inference simple.
  const via = (relation: Relation) => knex.raw(`'${relation}' as relation`);
  const byBlob = knex('manifest_blob_refs as x')
    .join('manifests as m', 'm.id', 'x.manifest_id')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .where('x.digest', digest)
    .select('m.id', 'r.name as repository', 'm.digest', via('blob'));
  const byChild = knex('manifest_manifest_refs as x')
    .join('manifests as m', 'm.id', 'x.manifest_id')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .where('x.child_digest', digest)
    .select('m.id', 'r.name as repository', 'm.digest', via('child'));
  const bySubject = knex('manifests as m')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .where('m.subject_digest', digest)
    .select('m.id', 'r.name as repository', 'm.digest', via('subject'));
  // Unwrapped: SQLite refuses parenthesised members of a compound select.
  const query = knex.select('u.id', 'u.repository', 'u.digest', 'u.relation').from(byBlob.unionAll([byChild, bySubject]).as('u'));
  if (page?.cursor !== undefined) {
    const { id, relation } = parseReferenceCursor(page.cursor);
    query.where((q) => q.where('u.id', '>', id).orWhere((q2) => q2.where('u.id', id).andWhere('u.relation', '>', relation)));
  }
  const rows = rowsOf(await query.orderBy([{ column: 'u.id' }, { column: 'u.relation' }]).limit(limit + 1)).map((r) => ({
    id: bigint(r, 'id'),
    repository: string(r, 'repository'),
    digest: string(r, 'digest'),
    relation: oneOf(r, 'relation', RELATIONS),
  }));
  return pageOf(
    rows,
    limit,
    (r) => `${r.id}:${r.relation}`,
    (kept) => kept.map((r) => ({ repository: r.repository, digest: r.digest, relation: r.relation })),
  );
}

function parseReferenceCursor(cursor: string): { id: number; relation: string } {
  const match = /^(\d{1,15}):(blob|child|subject)$/.exec(cursor);
  if (!match?.[1] || !match[2]) throw new RangeError('invalid page cursor');
  return { id: Number(match[1]), relation: match[2] };
}
