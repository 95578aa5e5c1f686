import type { Digest } from '@wharf/sdk';
import type { ReferrerRecord } from './types.js';
import { bigint, optionalString, rowsOf, string } from './decode.js';
import type { StoreContext } from './sql.js';

/** The referrers API's view: manifests of a repository that name a subject. */

/**
 * Manifests of `repository` whose subject is `subject`, oldest first, optionally only those of
 * one artifact type. Served by the (repository_id, subject_digest) index.
 */
export async function listReferrers(
  ctx: StoreContext,
  repository: string,
  subject: Digest,
  artifactType: string | undefined,
): Promise<ReferrerRecord[]> {
  const query = ctx
    .knex('manifests as m')
    .join('repositories as r', 'r.id', 'm.repository_id')
    .where('r.name', repository)
    .andWhere('m.subject_digest', subject)
    .select('m.digest', 'm.media_type', 'm.artifact_type', 'm.size', 'm.annotations')
    .orderBy('m.id');
  if (artifactType !== undefined) query.andWhere('m.artifact_type', artifactType);
  return rowsOf(await query).map((row) => ({
    digest: string(row, 'digest'),
    mediaType: string(row, 'media_type'),
    artifactType: optionalString(row, 'artifact_type'),
    size: bigint(row, 'size'),
    annotations: parseAnnotations(optionalString(row, 'annotations')),
  }));
}

function parseAnnotations(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}
