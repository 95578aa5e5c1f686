import type { Digest } from '@wharf/sdk';
import type { ReferrerRecord } from './types.js';
import { toNumber, type StoreContext } from './sql.js';

/** The referrers API's view: manifests of a repository that name a subject. */

interface ReferrerRow {
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: unknown;
  annotations: string | null;
}

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
  const rows = (await query) as ReferrerRow[];
  return rows.map((row) => ({
    digest: row.digest,
    mediaType: row.media_type,
    artifactType: row.artifact_type ?? undefined,
    size: toNumber(row.size),
    annotations: parseAnnotations(row.annotations),
  }));
}

function parseAnnotations(text: string | null): Record<string, string> | undefined {
  if (text === null) return undefined;
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}
