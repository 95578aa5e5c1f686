import type { ArtifactInfo } from '@wharf/sdk';
import { describe, MANIFEST_COLUMNS, manifestRow } from './artifacts.js';
import { bigint, rowsOf } from './decode.js';
import { repositoryId } from './repositories-blobs.js';
import type { StoreContext } from './sql.js';

/**
 * The artifacts of a repository as a person pages through them (the management API): newest
 * push first, numbered pages with the total. Manifest ids grow with each push, so `id desc` is
 * push order and the query stays on the manifests' keys.
 */
export async function findArtifacts(
  ctx: StoreContext,
  repository: string,
  query: { readonly page: number; readonly pageSize: number },
): Promise<{ items: ArtifactInfo[]; total: number }> {
  const { page, pageSize } = query;
  if (!Number.isInteger(page) || page < 1) throw new RangeError('page must be an integer from 1');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new RangeError('pageSize must be an integer from 1 to 1000');
  const repoId = await repositoryId(ctx.knex, repository);
  if (repoId === undefined) return { items: [], total: 0 };
  const [counted] = rowsOf(await ctx.knex('manifests').where('repository_id', repoId).count({ n: '*' }));
  const total = counted ? bigint(counted, 'n') : 0;
  if (total === 0 || (page - 1) * pageSize >= total) return { items: [], total };
  const rows = rowsOf(
    await ctx
      .knex('manifests')
      .where('repository_id', repoId)
      .select(MANIFEST_COLUMNS)
      .orderBy('id', 'desc')
      .limit(pageSize)
      .offset((page - 1) * pageSize),
  ).map(manifestRow);
  return { items: await describe(ctx, repository, rows), total };
}
