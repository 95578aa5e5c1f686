import { ApiError, REPOSITORY_SORTS, type ManagementApi } from '@wharf/sdk';
import { repositoryOf } from '../names.js';
import { RepositorySchema, repositoryView } from '../views.js';
import { actorOf, inProject, ProjectParams, RepositoryParams, type ApiDeps } from './common.js';

/** `/projects/{project_name}/repositories`: list (with search), read, delete. */
export function registerRepositoryOperations(api: ManagementApi, { artifacts, content }: ApiDeps): void {
  api.operation({
    operationId: 'listRepositories',
    method: 'GET',
    path: '/projects/{project_name}/repositories',
    tag: 'repositories',
    summary: "List a project's repositories",
    description:
      'With artifact and tag counts, size and last update, in name order unless `sort=` says otherwise. `q=name=~web` keeps the repositories whose name (after the project) contains `web`, case-insensitive; `q=name=app/web` is one repository by exact name. Members see their projects\' repositories, anyone public projects\'.',
    list: true,
    anonymous: true,
    filters: ['name'],
    sorts: REPOSITORY_SORTS,
    params: ProjectParams,
    response: RepositorySchema,
    async handler(req) {
      const project = req.params.project_name;
      await req.authorize(inProject(project, 'repository', 'list'));
      const name = req.page.filters['name'];
      if (name?.op === 'eq') {
        const exact = name.value.startsWith(`${project}/`) ? name.value.slice(project.length + 1) : name.value;
        const found = await artifacts.getRepository(repositoryOf(project, exact));
        const items = found && req.page.page === 1 ? [repositoryView(found)] : [];
        return { items, total: found ? 1 : 0 };
      }
      const page = await artifacts.findRepositories({ namespace: project, contains: name?.value, page: req.page.page, pageSize: req.page.pageSize, sort: req.page.sort });
      return { items: page.items.map(repositoryView), total: page.total };
    },
  });

  api.operation({
    operationId: 'getRepository',
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}',
    tag: 'repositories',
    summary: 'Get a repository',
    anonymous: true,
    params: RepositoryParams,
    response: RepositorySchema,
    async handler(req) {
      const repository = repositoryOf(req.params.project_name, req.params.repository_name);
      await req.authorize(inProject(req.params.project_name, 'repository', 'read'));
      const found = await artifacts.getRepository(repository);
      if (!found) throw new ApiError('NOT_FOUND', `no repository ${repository}`);
      return repositoryView(found);
    },
  });

  api.operation({
    operationId: 'deleteRepository',
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}',
    tag: 'repositories',
    summary: 'Delete a repository with all its artifacts and tags',
    description:
      'Refused as a whole when a policy gate (`registry.beforeDelete`) refuses any of its artifacts, and when `registry.deleteEnabled` is false (405). Records `registry.repository.deleted`. The blobs stay until garbage collection removes them.',
    params: RepositoryParams,
    async handler(req) {
      const repository = repositoryOf(req.params.project_name, req.params.repository_name);
      await req.authorize(inProject(req.params.project_name, 'repository', 'delete'));
      if (!(await artifacts.getRepository(repository))) throw new ApiError('NOT_FOUND', `no repository ${repository}`);
      const { artifacts: count } = await content.deleteRepository(repository, actorOf(req));
      req.logger.info({ repository, artifacts: count, by: req.principal.subject }, 'repository deleted');
      return undefined;
    },
  });
}
