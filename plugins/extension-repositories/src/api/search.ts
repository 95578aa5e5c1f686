import { ApiError, Type, type ArtifactService, type ManagementApi, type ProjectDirectoryService } from '@wharf/sdk';
import { projectOf } from '../names.js';

/**
 * `GET /search?q=`: projects, repositories, tags and digest prefixes the caller may see, for the
 * UI's search box. Two queries of the projects plugin (the matching projects; the names of every
 * project the caller may see, skipped for administrators) and three of the kernel (repositories,
 * tags, digests, each filtered on those names and bounded by `limit`): the cost does not grow
 * with what the caller may not see, and no row is checked on its own.
 */
const SearchQuery = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: 255, description: 'Text to find: part of a project, repository or tag name, or the start of a digest (at least 4 hex digits, `sha256:` optional).' }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10, description: 'At most this many results of each kind.' })),
  },
  { additionalProperties: false },
);

const SearchResults = Type.Object(
  {
    projects: Type.Array(Type.Object({ name: Type.String(), public: Type.Boolean() }, { additionalProperties: false })),
    repositories: Type.Array(Type.Object({ name: Type.String(), project: Type.String() }, { additionalProperties: false })),
    tags: Type.Array(Type.Object({ repository: Type.String(), project: Type.String(), tag: Type.String(), digest: Type.String() }, { additionalProperties: false })),
    digests: Type.Array(Type.Object({ repository: Type.String(), project: Type.String(), digest: Type.String(), mediaType: Type.String() }, { additionalProperties: false })),
  },
  { additionalProperties: false, $id: 'SearchResults' },
);

export function registerSearchOperation(api: ManagementApi, deps: { artifacts: ArtifactService; projects: ProjectDirectoryService | undefined }): void {
  const { artifacts, projects } = deps;
  api.operation({
    operationId: 'listSearchResults',
    method: 'GET',
    path: '/search',
    tag: 'repositories',
    summary: 'Search projects, repositories, tags and digests',
    description:
      'Names containing `q` (case-insensitive) and digests starting with it, at most `limit` of each kind, in name order: only what the caller may see (public projects and their own; administrators everything). Anonymous callers find public projects\' content.',
    anonymous: true,
    query: SearchQuery,
    response: SearchResults,
    async handler(req) {
      const text = req.query.q.trim();
      if (text === '') throw new ApiError('BAD_REQUEST', 'invalid query: q must not be blank');
      const limit = req.query.limit ?? 10;
      const { principal } = req;
      // Without a projects plugin nobody but an administrator sees a project's content (the management API's rule).
      const listVisible = projects?.listVisible?.bind(projects);
      const [found, namespaces] = await Promise.all([
        listVisible ? listVisible(principal, { contains: text, limit }) : Promise.resolve([]),
        principal.admin ? Promise.resolve(undefined) : listVisible ? listVisible(principal).then((all) => all.map((p) => p.name)) : Promise.resolve([]),
      ]);
      const content = await artifacts.searchContent({ text, namespaces, limit });
      return {
        projects: found.map((p) => ({ name: p.name, public: p.public })),
        repositories: content.repositories.map((r) => ({ name: r.name, project: projectOf(r.name) })),
        tags: content.tags.map((t) => ({ ...t, project: projectOf(t.repository) })),
        digests: content.digests.map((d) => ({ ...d, project: projectOf(d.repository) })),
      };
    },
  });
}
