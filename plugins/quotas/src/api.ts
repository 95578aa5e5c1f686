import { ApiError, Type, type ApiRequest, type ManagementApi, type ProjectDirectoryService } from '@wharf/sdk';
import type { QuotaService } from './quota-service.js';
import { parseSize, SIZE_PATTERN } from './sizes.js';
import type { QuotaStore } from './store.js';
import { QuotaSchema, quotaView } from './views.js';

const PROJECT_NAME = '^[a-z0-9]+(?:[._-][a-z0-9]+)*$';
const ProjectParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255, pattern: PROJECT_NAME }) });
const QuotaUpdate = Type.Object(
  {
    hard: Type.Object(
      {
        storage: Type.Optional(Type.Union([Type.Integer({ minimum: -1 }), Type.String({ pattern: SIZE_PATTERN })], { description: 'bytes, a size such as `10GiB`, or -1 for unlimited' })),
        count: Type.Optional(Type.Integer({ minimum: -1, description: 'artifacts, or -1 for unlimited' })),
        repository_storage: Type.Optional(Type.Union([Type.Integer({ minimum: -1 }), Type.String({ pattern: SIZE_PATTERN })], { description: 'bytes each repository may hold, a size, or -1 for unlimited' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

function requireAdmin(req: ApiRequest): void {
  if (!req.principal.admin) throw new ApiError('FORBIDDEN', 'only system administrators manage quotas');
}

/** `GET /quotas`, `GET|PUT /projects/{project_name}/quota`. */
export function registerQuotasApi(api: ManagementApi, deps: { store: QuotaStore; service: QuotaService; projects: ProjectDirectoryService | undefined }): void {
  const { store } = deps;
  // Without a projects plugin, a "project" is only a repository name prefix: nothing to check.
  const mustExist = async (project: string): Promise<void> => {
    if (deps.projects && !(await deps.projects.exists(project))) throw new ApiError('NOT_FOUND', `project ${project} not found`);
  };
  api.operation({
    operationId: 'listQuotas',
    method: 'GET',
    path: '/quotas',
    tag: 'quotas',
    summary: "List every project's quota and usage",
    description: 'System administrators only. In project name order.',
    list: true,
    response: QuotaSchema,
    async handler(req) {
      requireAdmin(req);
      const page = await store.list(req.page.page, req.page.pageSize);
      return { items: page.items.map(quotaView), total: page.total };
    },
  });

  api.operation({
    operationId: 'getProjectQuota',
    method: 'GET',
    path: '/projects/{project_name}/quota',
    tag: 'quotas',
    summary: "Get a project's quota and usage",
    description: "Anyone who may read the project (its members; system administrators). A project without a quota yet gets the configured default.",
    params: ProjectParams,
    response: QuotaSchema,
    async handler(req) {
      const project = req.params.project_name;
      await req.authorize({ resource: { type: 'project', name: project, resource: 'project' }, action: 'read' });
      await mustExist(project);
      return quotaView(await store.peek(project));
    },
  });

  api.operation({
    operationId: 'updateProjectQuota',
    method: 'PUT',
    path: '/projects/{project_name}/quota',
    tag: 'quotas',
    summary: "Set a project's quota",
    description: 'System administrators only. A limit below the current usage is allowed (as in Harbor): pushes that add to it are then refused. Omitted limits stay as they are.',
    params: ProjectParams,
    body: QuotaUpdate,
    response: QuotaSchema,
    async handler(req) {
      requireAdmin(req);
      await mustExist(req.params.project_name);
      const { storage, count, repository_storage: repositoryStorage } = req.body.hard;
      let bytes: number | undefined;
      let repositoryBytes: number | undefined;
      try {
        bytes = storage === undefined ? undefined : parseSize(storage);
        repositoryBytes = repositoryStorage === undefined ? undefined : parseSize(repositoryStorage);
      } catch (err) {
        throw new ApiError('BAD_REQUEST', (err as Error).message);
      }
      const row = await store.setLimits(req.params.project_name, { storage: bytes, count, repositoryStorage: repositoryBytes });
      req.logger.info({ project: row.project, storage: row.storageLimit, count: row.countLimit, by: req.principal.subject }, 'quota set');
      return quotaView(row);
    },
  });
}
