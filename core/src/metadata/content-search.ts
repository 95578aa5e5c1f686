import type { ContentMatches, ContentSearchRequest } from '@wharf/sdk';
import { rowsOf } from './decode.js';
import { checkLength, MAX_REPOSITORY_NAME, type StoreContext } from './sql.js';

/** `LIKE` text matching `value` literally, `!` escaping the wildcards. */
const literal = (value: string): string => value.replace(/[!%_]/g, (c) => `!${c}`);

/** How many namespaces one query filters on: below every database's bind-parameter limit (SQLite 32,766; PostgreSQL and MySQL 65,535). */
const NAMESPACE_CHUNK = 20_000;

/** The project of a repository name in SQL (its first path segment), per dialect. */
function namespaceExpression(dialect: StoreContext['dialect'], column: string): string {
  if (dialect === 'postgres') return `split_part(${column}, '/', 1)`;
  if (dialect === 'mysql') return `substring_index(${column}, '/', 1)`;
  return `substr(${column}, 1, instr(${column}, '/') - 1)`;
}

const DIGEST_PREFIX = /^(?:sha256:)?([0-9a-f]{4,64})$/;

/**
 * Repositories, tags and digests matching `text` across the registry, at most `limit` of each,
 * restricted to the `namespaces` given (all when omitted). Three queries per chunk of 20,000
 * namespaces, each bounded by `limit`: repository names and tags contain the text
 * (case-insensitive), digests start with it (`sha256:` optional, at least 4 hex digits; the
 * prefix `LIKE` runs on the digest index). The namespace filter is the first segment of the
 * name, so one `IN` list states it on every database.
 */
export async function searchContent(ctx: StoreContext, request: ContentSearchRequest, chunkSize = NAMESPACE_CHUNK): Promise<ContentMatches> {
  const { text, namespaces, limit } = request;
  if (typeof text !== 'string' || text.trim() === '') throw new RangeError('search text must not be empty');
  checkLength('search text', text, MAX_REPOSITORY_NAME);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new RangeError('limit must be an integer from 1 to 100');
  if (namespaces !== undefined && namespaces.length === 0) return { repositories: [], tags: [], digests: [] };
  const chunks = namespaces === undefined ? [undefined] : chunk(namespaces, chunkSize);
  const contains = `%${literal(text.trim().toLowerCase())}%`;
  const hex = DIGEST_PREFIX.exec(text.trim().toLowerCase())?.[1];
  const { knex } = ctx;
  const ns = namespaceExpression(ctx.dialect, 'r.name');
  const scoped = <Q extends { whereRaw: (sql: string, bindings: readonly string[]) => Q }>(query: Q, names: readonly string[] | undefined): Q =>
    names === undefined ? query : query.whereRaw(`${ns} in (${names.map(() => '?').join(', ')})`, names);

  const repositories: ContentMatches['repositories'][number][] = [];
  const tags: ContentMatches['tags'][number][] = [];
  const digests: ContentMatches['digests'][number][] = [];
  for (const names of chunks) {
    const [repoRows, tagRows, digestRows] = await Promise.all([
      scoped(knex({ r: 'repositories' }).whereRaw(`r.name like ? escape '!'`, [contains]), names).select('r.name').orderBy('r.name').limit(limit),
      scoped(
        knex({ t: 'tags' })
          .join({ r: 'repositories' }, 'r.id', 't.repository_id')
          .join({ m: 'manifests' }, 'm.id', 't.manifest_id')
          .whereRaw(`lower(t.name) like ? escape '!'`, [contains]),
        names,
      )
        .select({ repository: 'r.name', tag: 't.name', digest: 'm.digest' })
        .orderBy([{ column: 't.name' }, { column: 'r.name' }])
        .limit(limit),
      hex === undefined
        ? Promise.resolve([])
        : scoped(knex({ m: 'manifests' }).join({ r: 'repositories' }, 'r.id', 'm.repository_id').where('m.digest', 'like', `sha256:${hex}%`), names)
            .select({ repository: 'r.name', digest: 'm.digest', mediaType: 'm.media_type' })
            .orderBy([{ column: 'm.digest' }, { column: 'r.name' }])
            .limit(limit),
    ]);
    for (const r of rowsOf(repoRows)) repositories.push({ name: String(r.name) });
    for (const r of rowsOf(tagRows)) tags.push({ repository: String(r.repository), tag: String(r.tag), digest: String(r.digest) });
    for (const r of rowsOf(digestRows)) digests.push({ repository: String(r.repository), digest: String(r.digest), mediaType: String(r.mediaType) });
  }
  // Several chunks: merge in the order one query would have given, and keep the bound.
  const by = <T>(key: (v: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
  return {
    repositories: repositories.sort(by((r) => r.name)).slice(0, limit),
    tags: tags.sort(by((t) => `${t.tag}\u0000${t.repository}`)).slice(0, limit),
    digests: digests.sort(by((d) => `${d.digest}\u0000${d.repository}`)).slice(0, limit),
  };
}

function chunk<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}
