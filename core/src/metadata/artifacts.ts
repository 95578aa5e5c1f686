import type { ArtifactInfo, ContentPage, ContentPageRequest, Digest, ManifestReference } from '@wharf/sdk';
import { contentLimit, pageOf } from './content-pages.js';
import { repositoryId } from './repositories-blobs.js';
import { toNumber, type StoreContext } from './sql.js';

/**
 * Artifacts (manifests with their tags, sizes, children and times) and the reverse references
 * ("who uses this digest?") for `coreServices.artifacts`. A page costs four queries: the
 * manifests, then tags, blob sizes and children for all of them at once.
 */

export interface ManifestRow {
  id: unknown;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: unknown;
  subject_digest: string | null;
  created_at: unknown;
  pulled_at: unknown;
}

export const MANIFEST_COLUMNS = ['id', 'digest', 'media_type', 'artifact_type', 'size', 'subject_digest', 'created_at', 'pulled_at'];

export async function listArtifacts(ctx: StoreContext, repository: string, page: ContentPageRequest | undefined): Promise<ContentPage<ArtifactInfo>> {
  const limit = contentLimit(page);
  const repoId = await repositoryId(ctx.knex, repository);
  if (repoId === undefined) return { items: [], next: undefined };
  const query = ctx.knex('manifests').where('repository_id', repoId).select(MANIFEST_COLUMNS).orderBy('digest').limit(limit + 1);
  if (page?.cursor !== undefined) query.andWhere('digest', '>', page.cursor);
  const rows = (await query) as ManifestRow[];
  const artifacts = await describe(ctx, repository, rows.slice(0, limit));
  return pageOf(rows, limit, (r) => r.digest, () => artifacts);
}

export async function getArtifact(ctx: StoreContext, repository: string, digest: Digest): Promise<ArtifactInfo | undefined> {
  const row = (await ctx
    .knex('manifests as m')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .where('r.name', repository)
    .andWhere('m.digest', digest)
    .first(MANIFEST_COLUMNS.map((c) => `m.${c}`))) as ManifestRow | undefined;
  if (!row) return undefined;
  const [artifact] = await describe(ctx, repository, [row]);
  return artifact;
}

export async function describe(ctx: StoreContext, repository: string, rows: readonly ManifestRow[]): Promise<ArtifactInfo[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => toNumber(r.id));
  const { knex } = ctx;
  const [tags, sizes, children] = await Promise.all([
    knex('tags').whereIn('manifest_id', ids).select('manifest_id', 'name').orderBy('name') as Promise<Array<{ manifest_id: unknown; name: string }>>,
    knex('manifest_blob_refs as x')
      .join('blobs as b', 'b.digest', 'x.digest')
      .whereIn('x.manifest_id', ids)
      .groupBy('x.manifest_id')
      .select('x.manifest_id', knex.raw('sum(b.size) as bytes')) as Promise<Array<{ manifest_id: unknown; bytes: unknown }>>,
    knex('manifest_manifest_refs').whereIn('manifest_id', ids).select('manifest_id', 'child_digest').orderBy('child_digest') as Promise<Array<{ manifest_id: unknown; child_digest: string }>>,
  ]);
  const grouped = <R extends { manifest_id: unknown }, V>(list: R[], value: (r: R) => V) => {
    const out = new Map<number, V[]>();
    for (const r of list) {
      const id = toNumber(r.manifest_id);
      const values = out.get(id) ?? [];
      values.push(value(r));
      out.set(id, values);
    }
    return out;
  };
  const tagsOf = grouped(tags, (r) => r.name);
  const childrenOf = grouped(children, (r) => r.child_digest);
  const blobBytes = new Map(sizes.map((r) => [toNumber(r.manifest_id), toNumber(r.bytes)]));
  return rows.map((row) => {
    const id = toNumber(row.id);
    const manifestSize = toNumber(row.size);
    return {
      repository,
      digest: row.digest,
      mediaType: row.media_type,
      artifactType: row.artifact_type ?? undefined,
      manifestSize,
      size: manifestSize + (blobBytes.get(id) ?? 0),
      tags: tagsOf.get(id) ?? [],
      subject: row.subject_digest ?? undefined,
      children: childrenOf.get(id) ?? [],
      pushedAt: new Date(toNumber(row.created_at)),
      pulledAt: row.pulled_at === null || row.pulled_at === undefined ? undefined : new Date(toNumber(row.pulled_at)),
    };
  });
}

const RELATIONS = ['blob', 'child', 'subject'] as const;
type Relation = (typeof RELATIONS)[number];

function toRelation(value: string): Relation {
  const found = RELATIONS.find((r) => r === value);
  if (!found) throw new TypeError(`unexpected reference relation from the database: ${value}`);
  return found;
}

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
  const rows = (await query.orderBy([{ column: 'u.id' }, { column: 'u.relation' }]).limit(limit + 1)) as Array<{ id: unknown; repository: string; digest: string; relation: string }>;
  return pageOf(
    rows,
    limit,
    (r) => `${toNumber(r.id)}:${r.relation}`,
    (kept) => kept.map((r) => ({ repository: r.repository, digest: r.digest, relation: toRelation(r.relation) })),
  );
}

function parseReferenceCursor(cursor: string): { id: number; relation: string } {
  const match = /^(\d{1,15}):(blob|child|subject)$/.exec(cursor);
  if (!match?.[1] || !match[2]) throw new RangeError('invalid page cursor');
  return { id: Number(match[1]), relation: match[2] };
}
