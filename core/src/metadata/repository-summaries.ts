import { orderBySort, type ApiSortKey, type ContentPage, type ContentPageRequest, type Knex, type RepositoryInfo, type SortColumn, type TagInfo } from '@wharf/sdk';
import { contentLimit, pageOf } from './content-pages.js';
import { repositoryId } from './repositories-blobs.js';
import { bigint, date, optionalBigint, rowOf, rowsOf, string, type Row } from './decode.js';
import { MAX_REPOSITORY_NAME, checkLength, type StoreContext } from './sql.js';

/**
 * Repositories with counts and sizes, and tags with their manifests, for `coreServices.artifacts`.
 * A page costs four queries whatever its size: the page, then one grouped query per figure,
 * each served by an index that starts with `repository_id`.
 */

interface RepositoryRow {
  readonly id: number;
  readonly name: string;
  readonly createdAt: number;
}

const repositoryRow = (r: Row): RepositoryRow => ({ id: bigint(r, 'id'), name: string(r, 'name'), createdAt: bigint(r, 'created_at') });

export async function listRepositorySummaries(ctx: StoreContext, page: ContentPageRequest | undefined): Promise<ContentPage<RepositoryInfo>> {
  const limit = contentLimit(page);
  const query = ctx.knex('repositories').select('id', 'name', 'created_at').orderBy('name').limit(limit + 1);
  if (page?.cursor !== undefined) query.where('name', '>', page.cursor);
  const rows = rowsOf(await query).map(repositoryRow);
  const kept = rows.slice(0, limit);
  const summaries = await summarize(ctx, kept);
  return pageOf(rows, limit, (r) => r.name, () => summaries);
}

export async function getRepositorySummary(ctx: StoreContext, name: string): Promise<RepositoryInfo | undefined> {
  const row = rowOf(await ctx.knex('repositories').where({ name }).first('id', 'name', 'created_at'));
  if (!row) return undefined;
  const [summary] = await summarize(ctx, [repositoryRow(row)]);
  return summary;
}

/** `LIKE` text matching `value` literally, `!` escaping the wildcards (as `prefixPattern`). */
const literal = (value: string): string => value.replace(/[!%_]/g, (c) => `!${c}`);

/**
 * Repositories named `<namespace>/...` whose name after the namespace contains `contains` (when
 * given), one numbered page in byte-wise order with the total: what a person pages through in
 * the management API. One `LIKE` states the match; the range on the prefix (`'ns/' <= name <
 * 'ns0'`) lets every database use the unique index on `name` and keeps SQLite (whose `LIKE`
 * ignores ASCII case) exact on the namespace.
 */
export async function findRepositorySummaries(
  ctx: StoreContext,
  query: { readonly namespace: string; readonly contains?: string | undefined; readonly page: number; readonly pageSize: number; readonly sort?: readonly ApiSortKey[] | undefined },
): Promise<{ items: RepositoryInfo[]; total: number }> {
  const { namespace, contains, page, pageSize } = query;
  if (typeof namespace !== 'string' || namespace === '' || namespace.endsWith('/')) throw new RangeError(`invalid namespace "${String(namespace)}"`);
  if (!Number.isInteger(page) || page < 1) throw new RangeError('page must be an integer from 1');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new RangeError('pageSize must be an integer from 1 to 1000');
  const prefix = `${namespace}/`;
  checkLength('namespace', prefix, MAX_REPOSITORY_NAME);
  if (contains !== undefined) checkLength('search text', contains, MAX_REPOSITORY_NAME);
  // Names are lowercase by the OCI grammar: a lowercased search is case-insensitive on every database.
  const pattern = `${literal(prefix)}%${contains ? `${literal(contains.toLowerCase())}%` : ''}`;
  const matching = () =>
    ctx
      .knex('repositories')
      .whereRaw(`name like ? escape '!'`, [pattern])
      .andWhere('name', '>=', prefix)
      .andWhere('name', '<', `${namespace}0`);
  const [counted] = rowsOf(await matching().count({ n: '*' }));
  const total = counted ? bigint(counted, 'n') : 0;
  if (total === 0 || (page - 1) * pageSize >= total) return { items: [], total };
  const ordered = orderBySort(matching().select('id', 'name', 'created_at'), query.sort ?? [], sortColumns(ctx), { fallback: BY_NAME });
  const rows = rowsOf(await ordered.limit(pageSize).offset((page - 1) * pageSize)).map(repositoryRow);
  return { items: await summarize(ctx, rows), total };
}

const BY_NAME: readonly ApiSortKey[] = [{ field: 'name', descending: false }];

/**
 * What `sort=` orders repositories by: columns, or the figures {@link summarize} reports as
 * correlated subqueries (each served by an index that starts with `repository_id`). Fixed SQL:
 * the caller's text only picks among these.
 */
function sortColumns(ctx: StoreContext): Record<string, SortColumn> {
  const { knex } = ctx;
  const latestManifest = '(select max(m.created_at) from manifests m where m.repository_id = repositories.id)';
  const latestTag = '(select max(t.updated_at) from tags t where t.repository_id = repositories.id)';
  // As summarize's updatedAt: the latest of creation, a manifest and a tag change. SQLite's
  // many-argument max() is the others' greatest().
  const greatest = ctx.dialect === 'sqlite' ? 'max' : 'greatest';
  const updated: Knex.Raw = knex.raw(`${greatest}(repositories.created_at, coalesce(${latestManifest}, 0), coalesce(${latestTag}, 0))`);
  return {
    name: 'name',
    createdAt: 'created_at',
    artifactCount: knex.raw('(select count(*) from manifests m where m.repository_id = repositories.id)'),
    tagCount: knex.raw('(select count(*) from tags t where t.repository_id = repositories.id)'),
    updatedAt: updated,
  };
}

async function summarize(ctx: StoreContext, rows: readonly RepositoryRow[]): Promise<RepositoryInfo[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const { knex } = ctx;
  const [manifests, tags, blobs] = (
    await Promise.all([
      knex('manifests')
        .whereIn('repository_id', ids)
        .groupBy('repository_id')
        .select('repository_id', knex.raw('count(*) as n'), knex.raw('sum(size) as bytes'), knex.raw('max(created_at) as latest')),
      knex('tags').whereIn('repository_id', ids).groupBy('repository_id').select('repository_id', knex.raw('count(*) as n'), knex.raw('max(updated_at) as latest')),
      knex('repository_blobs as rb')
        .join('blobs as b', 'b.digest', 'rb.digest')
        .whereIn('rb.repository_id', ids)
        .groupBy('rb.repository_id')
        .select('rb.repository_id', knex.raw('sum(b.size) as bytes')),
    ])
  ).map(rowsOf) as [Row[], Row[], Row[]];
  // COUNT and SUM are strings on PostgreSQL (bigint, numeric) and SUM on MySQL (DECIMAL):
  // the decoders make every driver's figure the same number.
  const byId = (list: Row[]) => new Map(list.map((r) => [bigint(r, 'repository_id'), r]));
  const m = byId(manifests);
  const t = byId(tags);
  const b = byId(blobs);
  const figure = (row: Row | undefined, column: string): number => (row ? (optionalBigint(row, column) ?? 0) : 0);
  return rows.map((row) => {
    const mf = m.get(row.id);
    const tg = t.get(row.id);
    const latest = Math.max(row.createdAt, figure(mf, 'latest'), figure(tg, 'latest'));
    return {
      name: row.name,
      artifactCount: figure(mf, 'n'),
      tagCount: figure(tg, 'n'),
      size: figure(mf, 'bytes') + figure(b.get(row.id), 'bytes'),
      createdAt: new Date(row.createdAt),
      updatedAt: new Date(latest),
    };
  });
}

/** Tags of a repository in byte-wise order with the digest each points at. */
export async function listTagDetails(ctx: StoreContext, repository: string, page: ContentPageRequest | undefined): Promise<ContentPage<TagInfo>> {
  const limit = contentLimit(page);
  const repoId = await repositoryId(ctx.knex, repository);
  if (repoId === undefined) return { items: [], next: undefined };
  const query = ctx
    .knex('tags as t')
    .join('manifests as m', 'm.id', 't.manifest_id')
    .where('t.repository_id', repoId)
    .select('t.name', 'm.digest', 't.updated_at')
    .orderBy('t.name')
    .limit(limit + 1);
  if (page?.cursor !== undefined) query.andWhere('t.name', '>', page.cursor);
  const rows = rowsOf(await query).map((r): TagInfo => ({ name: string(r, 'name'), digest: string(r, 'digest'), updatedAt: date(r, 'updated_at') }));
  return pageOf(rows, limit, (r) => r.name, (kept) => [...kept]);
}
