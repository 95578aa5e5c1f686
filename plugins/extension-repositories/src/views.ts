import { Type, type ArtifactInfo, type ArtifactService, type ReferrerInfo, type RepositoryInfo, type Static } from '@wharf/sdk';

/** The JSON shapes of the API (TypeBox: validation, types and the OpenAPI document), and how content becomes them. */

export const RepositorySchema = Type.Object(
  {
    name: Type.String({ description: 'The full name, project included (`team/app/web`).' }),
    project: Type.String(),
    artifactCount: Type.Integer({ description: 'Manifests stored: images, indexes, signatures, SBOMs...' }),
    tagCount: Type.Integer(),
    size: Type.Integer({ description: 'Bytes: its manifests and the blobs linked to it (a blob shared with another repository counts in both).' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time', description: 'The latest push or tag change.' }),
  },
  { $id: 'Repository', additionalProperties: false },
);

const PlatformSchema = Type.Object(
  {
    digest: Type.String(),
    architecture: Type.Union([Type.String(), Type.Null()]),
    os: Type.Union([Type.String(), Type.Null()]),
    variant: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

const ReferrerSchema = Type.Object(
  {
    digest: Type.String(),
    mediaType: Type.String(),
    artifactType: Type.Union([Type.String(), Type.Null()], { description: 'e.g. a cosign signature or an SPDX SBOM.' }),
    size: Type.Integer(),
    annotations: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false },
);

export const ArtifactSchema = Type.Object(
  {
    repository: Type.String(),
    digest: Type.String(),
    mediaType: Type.String(),
    artifactType: Type.Union([Type.String(), Type.Null()]),
    manifestSize: Type.Integer(),
    size: Type.Integer({ description: 'The manifest and every distinct blob it references directly (an index: not its children).' }),
    tags: Type.Array(Type.String()),
    subject: Type.Union([Type.String(), Type.Null()], { description: 'The artifact this one refers to (a signature\'s image).' }),
    children: Type.Array(Type.String(), { description: 'An index\'s manifests.' }),
    platforms: Type.Array(PlatformSchema, { description: 'An index\'s manifests with their platforms (empty for an image).' }),
    referrers: Type.Array(ReferrerSchema, { description: 'Artifacts whose subject is this one: signatures, SBOMs, attestations.' }),
    pushedAt: Type.String({ format: 'date-time' }),
    pulledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'The last recorded pull (pull times are written in batches).' }),
  },
  { $id: 'Artifact', additionalProperties: false },
);

export type RepositoryView = Static<typeof RepositorySchema>;
export type ArtifactView = Static<typeof ArtifactSchema>;

export function repositoryView(r: RepositoryInfo): RepositoryView {
  return {
    name: r.name,
    project: r.name.slice(0, r.name.indexOf('/')),
    artifactCount: r.artifactCount,
    tagCount: r.tagCount,
    size: r.size,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

interface IndexDescriptor {
  digest?: unknown;
  platform?: { architecture?: unknown; os?: unknown; variant?: unknown };
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** An index's children with their platforms, read from the stored index. */
async function platformsOf(artifacts: ArtifactService, a: ArtifactInfo): Promise<ArtifactView['platforms']> {
  if (!INDEX_TYPES.has(a.mediaType)) return [];
  const manifest = await artifacts.getManifest(a.repository, a.digest);
  if (!manifest) return [];
  let parsed: { manifests?: unknown };
  try {
    parsed = JSON.parse(manifest.payload.toString('utf8')) as { manifests?: unknown };
  } catch {
    return [];
  }
  if (!Array.isArray(parsed.manifests)) return [];
  return (parsed.manifests as IndexDescriptor[])
    .filter((d) => typeof d.digest === 'string')
    .map((d) => ({ digest: d.digest as string, architecture: text(d.platform?.architecture), os: text(d.platform?.os), variant: text(d.platform?.variant) }));
}

const referrerView = (r: ReferrerInfo): ArtifactView['referrers'][number] => ({
  digest: r.digest,
  mediaType: r.mediaType,
  artifactType: r.artifactType ?? null,
  size: r.size,
  annotations: { ...(r.annotations ?? {}) },
});

/** An artifact with its index platforms and its referrers (two more reads, each on an index). */
export async function artifactView(artifacts: ArtifactService, a: ArtifactInfo): Promise<ArtifactView> {
  const [platforms, referrers] = await Promise.all([platformsOf(artifacts, a), artifacts.listReferrers(a.repository, a.digest)]);
  return {
    repository: a.repository,
    digest: a.digest,
    mediaType: a.mediaType,
    artifactType: a.artifactType ?? null,
    manifestSize: a.manifestSize,
    size: a.size,
    tags: [...a.tags],
    subject: a.subject ?? null,
    children: [...a.children],
    platforms,
    referrers: referrers.map(referrerView),
    pushedAt: a.pushedAt.toISOString(),
    pulledAt: a.pulledAt ? a.pulledAt.toISOString() : null,
  };
}
