import { Type, type AccessRequest, type ApiAction, type ApiRequest, type ManagementApi, type ResourceChangedData, type TSchema } from '@wharf/sdk';
import type { Robot, RobotPermission } from '../robot-store.js';
import { SORTS } from '../project-store.js';
import { projectsEvents, recorded } from '../events.js';
import { iso, mapped, nameFilter, type ApiDeps } from './common.js';

/**
 * Robot accounts, twice: project robots under `/projects/{project_name}/robots` (Project Admins
 * manage them; members read them) and system robots under `/robots` (system administrators).
 * The secret is in the answer to create and to a secret refresh only.
 */

const Access = Type.Object({ resource: Type.String({ minLength: 1 }), action: Type.String({ minLength: 1 }) }, { additionalProperties: false });
const Permission = Type.Object(
  {
    kind: Type.Literal('project'),
    namespace: Type.String({ minLength: 1, maxLength: 255, description: 'A project name, or `*` for all projects (system robots).' }),
    access: Type.Array(Access, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);

const RobotSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String({ description: 'The login name: `robot$<project>+<name>` or `robot$<name>`.' }),
    level: Type.Union([Type.Literal('system'), Type.Literal('project')]),
    description: Type.String(),
    permissions: Type.Array(Permission),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'null: never expires.' }),
    disabled: Type.Boolean(),
    creator: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Robot', additionalProperties: false },
);

const RobotWithSecret = Type.Object(
  { robot: RobotSchema, secret: Type.String({ description: 'Shown this once; only its hash is stored.' }) },
  { $id: 'RobotCreated', additionalProperties: false },
);

/** Days a robot lives: 1 to 36500, or -1 for ever. */
const Duration = (description: string) => Type.Union([Type.Literal(-1), Type.Integer({ minimum: 1, maximum: 36500 })], { description });

const CreateRobotBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    duration: Type.Optional(Duration('Days until expiry; -1 never. Default: `rbac.projects.robotDefaultDays`.')),
    permissions: Type.Array(Permission, { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);

const UpdateRobotBody = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    disabled: Type.Optional(Type.Boolean()),
    duration: Type.Optional(Duration('Days from creation; -1 never.')),
    permissions: Type.Optional(Type.Array(Permission, { minItems: 1, maxItems: 100 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

function view(robot: Robot) {
  return {
    id: robot.id,
    name: robot.name,
    level: robot.level,
    description: robot.description,
    permissions: robot.permissions.map((p) => ({ kind: p.kind, namespace: p.namespace, access: p.access.map((a) => ({ ...a })) })),
    expiresAt: iso(robot.expiresAt),
    disabled: robot.disabled,
    creator: robot.creator,
    createdAt: robot.createdAt.toISOString(),
    updatedAt: robot.updatedAt.toISOString(),
  };
}

/** A path parameter (validated by the kernel against the scope's schema). */
const param = (req: ApiRequest<unknown, unknown, unknown>, name: string): string => String((req.params as Record<string, unknown>)[name]);
/** A path parameter the kernel already validated (and converted) as an integer. */
const idParam = (req: ApiRequest<unknown, unknown, unknown>, name: string): number => (req.params as Record<string, number>)[name] as number;

/** Where robots of one level live: the path, the access to ask, the project (if any). */
interface RobotScope {
  readonly level: 'project' | 'system';
  readonly base: string;
  readonly idSuffix: string;
  readonly params: TSchema;
  readonly itemParams: TSchema;
  access(req: ApiRequest<unknown, unknown, unknown>, action: ApiAction): AccessRequest;
  /** The project's id and name, or null for system robots. */
  project(req: ApiRequest<unknown, unknown, unknown>, deps: ApiDeps): Promise<{ id: number; name: string } | null>;
}

const projectScope: RobotScope = {
  level: 'project',
  base: '/projects/{project_name}/robots',
  idSuffix: 'ProjectRobot',
  params: Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }) }),
  itemParams: Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }), robot_id: Type.Integer({ minimum: 1 }) }),
  access: (req, action) => ({ resource: { type: 'project', name: param(req, 'project_name'), resource: 'robot' }, action }),
  project: async (req, deps) => {
    const project = await mapped(() => deps.service.projects.require(param(req, 'project_name')));
    return { id: project.id, name: project.name };
  },
};

const systemScope: RobotScope = {
  level: 'system',
  base: '/robots',
  idSuffix: 'SystemRobot',
  params: Type.Object({}),
  itemParams: Type.Object({ robot_id: Type.Integer({ minimum: 1 }) }),
  access: (_req, action) => ({ resource: { type: 'system', name: 'robot' }, action }),
  project: async () => null,
};

function registerScope(api: ManagementApi, deps: ApiDeps, scope: RobotScope): void {
  const { service } = deps;
  const robotOf = async (req: ApiRequest<unknown, unknown, unknown>) => {
    const project = await scope.project(req, deps);
    return { project, robot: await mapped(() => service.robots.get(idParam(req, 'robot_id'), project?.id ?? null)) };
  };
  const tag = 'robots';
  const what = scope.level === 'project' ? 'project robot' : 'system robot';

  api.operation({
    operationId: `list${scope.idSuffix}s`,
    method: 'GET',
    path: scope.base,
    tag,
    summary: `List ${what}s`,
    list: true,
    filters: ['name'],
    sorts: Object.keys(SORTS.robots),
    params: scope.params,
    response: RobotSchema,
    async handler(req) {
      await req.authorize(scope.access(req, 'list'));
      const project = await scope.project(req, deps);
      const name = nameFilter(req.page.filters.name);
      const page = await service.robots.list(project?.id ?? null, { page: req.page.page, pageSize: req.page.pageSize, sort: req.page.sort, ...(name ? { name } : {}) });
      return { items: page.items.map(view), total: page.total };
    },
  });

  api.operation({
    operationId: `create${scope.idSuffix}`,
    method: 'POST',
    path: scope.base,
    tag,
    summary: `Create a ${what}; the answer holds its secret, once`,
    description:
      'Permissions are `{kind: "project", namespace, access: [{resource, action}]}`; a project robot names only its project. Resources and actions: repository pull/push/delete/read/list (push needs pull), artifact read/list/delete, tag create/delete/list, member read/list, robot read/list, project read.',
    params: scope.params,
    body: CreateRobotBody,
    response: RobotWithSecret,
    status: 201,
    async handler(req) {
      await req.authorize(scope.access(req, 'create'));
      const project = await scope.project(req, deps);
      const { robot, secret } = await mapped(() => recorded(service, req, projectsEvents.robot.created, () =>
        service.robots.create(
          {
            level: scope.level,
            ...(project ? { project: project.name } : {}),
            name: req.body.name,
            description: req.body.description ?? '',
            permissions: req.body.permissions as RobotPermission[],
            durationDays: req.body.duration ?? service.robotDefaultDays,
            creator: req.principal.subject,
          },
          project?.id ?? null,
        ), (created) => robotChange(created.robot.name, project?.name, { level: created.robot.level })),
      );
      req.setHeader('Location', `/api/v1${scope.base.replace('{project_name}', project?.name ?? '')}/${robot.id}`);
      req.logger.info({ robot: robot.name, level: robot.level, by: req.principal.subject }, 'robot created');
      return { robot: view(robot), secret };
    },
  });

  api.operation({
    operationId: `get${scope.idSuffix}`,
    method: 'GET',
    path: `${scope.base}/{robot_id}`,
    tag,
    summary: `Get a ${what}`,
    params: scope.itemParams,
    response: RobotSchema,
    async handler(req) {
      await req.authorize(scope.access(req, 'read'));
      return view((await robotOf(req)).robot);
    },
  });

  api.operation({
    operationId: `update${scope.idSuffix}`,
    method: 'PUT',
    path: `${scope.base}/{robot_id}`,
    tag,
    summary: `Change a ${what}: description, permissions, expiry, enabled or disabled`,
    params: scope.itemParams,
    body: UpdateRobotBody,
    response: RobotSchema,
    async handler(req) {
      await req.authorize(scope.access(req, 'update'));
      const { project, robot } = await robotOf(req);
      const { description, disabled, duration, permissions } = req.body;
      const updated = await mapped(() => recorded(service, req, projectsEvents.robot.updated, () =>
        service.robots.update(robot, project?.name, {
          ...(description !== undefined ? { description } : {}),
          ...(disabled !== undefined ? { disabled } : {}),
          ...(duration !== undefined ? { durationDays: duration } : {}),
          ...(permissions !== undefined ? { permissions: permissions as RobotPermission[] } : {}),
        }), () => robotChange(robot.name, project?.name, { description, disabled, duration, permissions: permissions === undefined ? undefined : 'changed' })),
      );
      req.logger.info({ robot: robot.name, disabled, by: req.principal.subject }, 'robot updated');
      return view(updated);
    },
  });

  api.operation({
    operationId: `set${scope.idSuffix}Disabled`,
    method: 'PATCH',
    path: `${scope.base}/{robot_id}`,
    tag,
    summary: `Disable or enable a ${what}`,
    description: 'A disabled robot cannot log in, and tokens it holds stop working within seconds.',
    params: scope.itemParams,
    body: Type.Object({ disabled: Type.Boolean() }, { additionalProperties: false }),
    response: RobotSchema,
    async handler(req) {
      await req.authorize(scope.access(req, 'update'));
      const { project, robot } = await robotOf(req);
      const updated = await mapped(() => recorded(service, req, projectsEvents.robot.updated,
        () => service.robots.update(robot, project?.name, { disabled: req.body.disabled }), () => robotChange(robot.name, project?.name, { disabled: req.body.disabled })));
      req.logger.info({ robot: robot.name, disabled: req.body.disabled, by: req.principal.subject }, req.body.disabled ? 'robot disabled' : 'robot enabled');
      return view(updated);
    },
  });

  api.operation({
    operationId: `refresh${scope.idSuffix}Secret`,
    method: 'POST',
    path: `${scope.base}/{robot_id}/secret`,
    tag,
    summary: `Replace a ${what}'s secret; the answer holds the new one, once`,
    params: scope.itemParams,
    response: RobotWithSecret,
    async handler(req) {
      await req.authorize(scope.access(req, 'update'));
      const { project, robot } = await robotOf(req);
      // The event says the secret changed; never what it is.
      const secret = await recorded(service, req, projectsEvents.robot.updated, () => service.robots.refreshSecret(robot), () => robotChange(robot.name, project?.name, { secret: 'refreshed' }));
      req.logger.info({ robot: robot.name, by: req.principal.subject }, 'robot secret refreshed');
      return { robot: view(robot), secret };
    },
  });

  api.operation({
    operationId: `delete${scope.idSuffix}`,
    method: 'DELETE',
    path: `${scope.base}/{robot_id}`,
    tag,
    summary: `Delete a ${what}`,
    params: scope.itemParams,
    async handler(req) {
      await req.authorize(scope.access(req, 'delete'));
      const { project, robot } = await robotOf(req);
      await recorded(service, req, projectsEvents.robot.deleted, () => service.robots.delete(robot), () => robotChange(robot.name, project?.name));
      req.logger.info({ robot: robot.name, by: req.principal.subject }, 'robot deleted');
      return undefined;
    },
  });
}

/** A robot's management event data: its name, its project, and what changed (never a secret). */
function robotChange(name: string, project: string | undefined, changes?: Record<string, unknown>): ResourceChangedData {
  const defined = changes ? Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) : undefined;
  return { resource: 'robot', id: name, ...(project ? { project } : {}), ...(defined && Object.keys(defined).length > 0 ? { changes: defined } : {}) };
}

export function registerRobotOperations(api: ManagementApi, deps: ApiDeps): void {
  registerScope(api, deps, projectScope);
  registerScope(api, deps, systemScope);
}
