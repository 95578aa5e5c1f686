import { ApiError, Type, type ApiRequest, type ManagementApi, type ProjectDirectoryService } from '@wharf/sdk';
import type { Replication } from '@wharf/plugin-replication';
import type { ProxySettings, ProxySettingsStore } from './store.js';

const PROJECT_NAME = '^[a-z0-9]+(?:[._-][a-z0-9]+)*$';
// Path components as in repository names; a prefix ends with `/` (added when left out).
const PATH_PREFIX = '^(?:[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*/?)+$|^$';
const MAX_UPSTREAMS = 10;

const ProjectParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255, pattern: PROJECT_NAME }) });

const UpstreamSchema = Type.Object(
  {
    registry: Type.String({ minLength: 1, maxLength: 255, description: 'name of a registry endpoint (`POST /registries`)' }),
    pathPrefix: Type.Optional(Type.String({ maxLength: 255, pattern: PATH_PREFIX, description: 'put before the repository path on this upstream, e.g. `library/` for Docker Hub\'s official images' })),
  },
  { additionalProperties: false },
);

const ProxyCacheBody = Type.Object(
  {
    upstreams: Type.Array(UpstreamSchema, {
      minItems: 1,
      maxItems: MAX_UPSTREAMS,
      description: 'upstream registries, asked in this order; the first that answers serves the pull',
    }),
  },
  { additionalProperties: false },
);

const ProxyCacheSchema = Type.Object(
  {
    project: Type.String(),
    upstreams: Type.Array(Type.Object({ registry: Type.String(), pathPrefix: Type.String() }, { additionalProperties: false })),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

function requireAdmin(req: ApiRequest): void {
  if (!req.principal.admin) throw new ApiError('FORBIDDEN', 'only system administrators manage proxy-cache projects');
}

function normalizePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** `GET|PUT|DELETE /projects/{project_name}/proxy-cache`. */
export function registerProxyCacheApi(api: ManagementApi, deps: { store: ProxySettingsStore; replication: Replication; projects: ProjectDirectoryService | undefined }): void {
  const { store, replication } = deps;
  const mustExist = async (project: string): Promise<void> => {
    if (deps.projects && !(await deps.projects.exists(project))) throw new ApiError('NOT_FOUND', `project ${project} not found`);
  };
  const view = async (settings: ProxySettings) => ({
    project: settings.project,
    upstreams: await Promise.all(settings.upstreams.map(async (u) => ({
      registry: (await replication.store.getEndpoint(u.endpointId))?.name ?? `(deleted endpoint #${u.endpointId})`,
      pathPrefix: u.pathPrefix,
    }))),
    createdAt: settings.createdAt.toISOString(),
    updatedAt: settings.updatedAt.toISOString(),
  });

  api.operation({
    operationId: 'getProxyCache',
    method: 'GET',
    path: '/projects/{project_name}/proxy-cache',
    tag: 'proxy-cache',
    summary: "Get a project's proxy-cache settings",
    description: 'System administrators only. 404 when the project is not a proxy cache.',
    params: ProjectParams,
    response: ProxyCacheSchema,
    async handler(req) {
      requireAdmin(req);
      const settings = await store.get(req.params.project_name);
      if (!settings) throw new ApiError('NOT_FOUND', `project ${req.params.project_name} is not a proxy cache`);
      return view(settings);
    },
  });

  api.operation({
    operationId: 'putProxyCache',
    method: 'PUT',
    path: '/projects/{project_name}/proxy-cache',
    tag: 'proxy-cache',
    summary: 'Make a project a proxy cache of upstream registries, or change its upstreams',
    description:
      'System administrators only. Each upstream names a registry endpoint (`POST /registries`); pulls of `<project>/<path>` are served from the cache or fetched from `<pathPrefix><path>` on the first upstream that has it (Docker Hub endpoints get `library/` before one-component paths). Pushes to the project are refused from then on.',
    params: ProjectParams,
    body: ProxyCacheBody,
    response: ProxyCacheSchema,
    async handler(req) {
      requireAdmin(req);
      const project = req.params.project_name;
      await mustExist(project);
      const upstreams = [];
      for (const entry of req.body.upstreams) {
        const endpoint = await replication.store.getEndpointByName(entry.registry);
        if (!endpoint) throw new ApiError('BAD_REQUEST', `registry endpoint ${entry.registry} not found`);
        upstreams.push({ endpointId: endpoint.id, pathPrefix: normalizePrefix(entry.pathPrefix) });
      }
      const settings = await store.put(project, upstreams);
      req.logger.info({ project, upstreams: req.body.upstreams.map((u) => u.registry), by: req.principal.subject }, 'proxy-cache settings set');
      return view(settings);
    },
  });

  api.operation({
    operationId: 'deleteProxyCache',
    method: 'DELETE',
    path: '/projects/{project_name}/proxy-cache',
    tag: 'proxy-cache',
    summary: 'Stop a project being a proxy cache',
    description: 'System administrators only. The cached content stays, as ordinary content of the project.',
    params: ProjectParams,
    async handler(req) {
      requireAdmin(req);
      const project = req.params.project_name;
      if (!(await store.delete(project))) throw new ApiError('NOT_FOUND', `project ${project} is not a proxy cache`);
      req.logger.info({ project, by: req.principal.subject }, 'proxy-cache settings removed');
      return undefined;
    },
  });
}
