import { Type, type ArtifactInfo, type ArtifactService, type ManagementApi, type TagInfo } from '@wharf/sdk';
import { repositoryOf } from '../names.js';
import { compareTags } from '../tag-order.js';
import { artifactView } from '../views.js';
import { inProject, RepositoryParams } from './common.js';

/**
 * `GET .../repositories/{r}/tags`: one row per tag, what the repository page shows first. Sorted
 * on the server, so every page agrees: `name` is version-aware (`v1.9` before `v1.10`, see
 * tag-order.ts), which no database orders by, so the repository's tags and artifacts are read
 * in keyset pages of 1000 (two walks), sorted, and only the page is described (platforms and
 * referrers). The cost grows with the repository, not with the registry.
 */
const SORTS = ['name', '-name', 'pushed', '-pushed', 'pulled', '-pulled'] as const;
type Sort = (typeof SORTS)[number];

const TagQuery = Type.Object(
  {
    sort: Type.Optional(
      Type.Union(SORTS.map((s) => Type.Literal(s)), {
        default: '-pushed',
        description: '`name` (version-aware), `pushed` (when the tag was last pushed or moved), `pulled` (the artifact\'s last recorded pull; never pulled sorts last); `-` for descending.',
      }),
    ),
  },
  { additionalProperties: false },
);

const PlatformSchema = Type.Object(
  { digest: Type.String(), architecture: Type.Union([Type.String(), Type.Null()]), os: Type.Union([Type.String(), Type.Null()]), variant: Type.Union([Type.String(), Type.Null()]) },
  { additionalProperties: false },
);

export const TagRowSchema = Type.Object(
  {
    name: Type.String(),
    repository: Type.String(),
    digest: Type.String(),
    mediaType: Type.String(),
    artifactType: Type.Union([Type.String(), Type.Null()]),
    size: Type.Integer({ description: 'The artifact\'s size (an index: without its children).' }),
    platforms: Type.Array(PlatformSchema, { description: 'An index\'s platforms (empty for an image).' }),
    referrerCount: Type.Integer({ description: 'Signatures, SBOMs and other artifacts whose subject is this one.' }),
    pushedAt: Type.String({ format: 'date-time', description: 'When the tag was last pushed or moved.' }),
    pulledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'TagRow', additionalProperties: false },
);

async function walk<T>(list: (cursor: string | undefined) => Promise<{ items: readonly T[]; next: string | undefined }>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    all.push(...page.items);
    cursor = page.next;
  } while (cursor !== undefined);
  return all;
}

function order(sort: Sort, artifacts: ReadonlyMap<string, ArtifactInfo>): (a: TagInfo, b: TagInfo) => number {
  const descending = sort.startsWith('-');
  const key = sort.replace(/^-/, '');
  const byName = (a: TagInfo, b: TagInfo) => compareTags(a.name, b.name);
  const time = (t: TagInfo) => (key === 'pushed' ? t.updatedAt.getTime() : (artifacts.get(t.digest)?.pulledAt?.getTime() ?? undefined));
  return (a, b) => {
    if (key === 'name') return descending ? byName(b, a) : byName(a, b);
    const x = time(a);
    const y = time(b);
    // Never pulled: last in either direction.
    if (x === undefined || y === undefined) return x === y ? byName(a, b) : x === undefined ? 1 : -1;
    return (descending ? y - x : x - y) || byName(a, b);
  };
}

export function registerTagOperations(api: ManagementApi, { artifacts }: { artifacts: ArtifactService }): void {
  api.operation({
    operationId: 'listTags',
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/tags',
    tag: 'repositories',
    summary: "List a repository's tags",
    description:
      'One row per tag with its artifact\'s digest, type, size, platforms and referrer count, push and pull times. `sort`: `name` (version-aware: `v1.9` before `v1.10`), `pushed`, `pulled`, `-` for descending; `q=name=~rc` keeps tags containing `rc`.',
    list: true,
    anonymous: true,
    filters: ['name'],
    params: RepositoryParams,
    query: TagQuery,
    response: TagRowSchema,
    async handler(req) {
      const repository = repositoryOf(req.params.project_name, req.params.repository_name);
      await req.authorize(inProject(req.params.project_name, 'artifact', 'list'));
      const [tags, manifests] = await Promise.all([
        walk((cursor) => artifacts.listTags(repository, { limit: 1000, ...(cursor ? { cursor } : {}) })),
        walk((cursor) => artifacts.listArtifacts(repository, { limit: 1000, ...(cursor ? { cursor } : {}) })),
      ]);
      const byDigest = new Map(manifests.map((a) => [a.digest as string, a]));
      const filter = req.page.filters['name'];
      const wanted = filter === undefined ? tags : tags.filter((t) => (filter.op === 'eq' ? t.name === filter.value : t.name.toLowerCase().includes(filter.value.toLowerCase())));
      const sorted = [...wanted].sort(order(req.query.sort ?? '-pushed', byDigest));
      const { page, pageSize } = req.page;
      const slice = sorted.slice((page - 1) * pageSize, page * pageSize);
      // Only the page's artifacts are described: an index's platforms, the referrers.
      const views = new Map<string, Awaited<ReturnType<typeof artifactView>>>();
      await Promise.all(
        [...new Set(slice.map((t) => t.digest as string))].map(async (digest) => {
          const info = byDigest.get(digest);
          if (info) views.set(digest, await artifactView(artifacts, info));
        }),
      );
      const items = slice.flatMap((t) => {
        const view = views.get(t.digest);
        if (!view) return []; // deleted between the two walks
        return [{
          name: t.name,
          repository,
          digest: view.digest,
          mediaType: view.mediaType,
          artifactType: view.artifactType,
          size: view.size,
          platforms: view.platforms,
          referrerCount: view.referrers.length,
          pushedAt: t.updatedAt.toISOString(),
          pulledAt: view.pulledAt,
        }];
      });
      return { items, total: wanted.length };
    },
  });
}
