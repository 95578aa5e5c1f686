import { ApiError, Type, type ManagementApi, type Principal } from '@wharf/sdk';
import { SORTS, type Project } from '../project-store.js';
import type { MemberKind } from '../project-store.js';
import { roleById } from '../roles.js';
import { projectsEvents, recorded } from '../events.js';
import { mapped, nameFilter, type ApiDeps } from './common.js';

/** `/projects`: list, create, read, change visibility, delete (only when empty). */

export const ProjectSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    public: Type.Boolean({ description: 'Anyone, anonymous included, may pull.' }),
    owner: Type.Union([Type.String(), Type.Null()], { description: 'Who created it (null for the default project).' }),
    currentUserRole: Type.Union([Type.String(), Type.Null()], { description: "The caller's strongest role in the project, if any." }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Project', additionalProperties: false },
);

export const ProjectParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }) });

const CreateProjectBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255, description: 'Lowercase letters, digits and separators (. _ -).' }),
    public: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

const UpdateProjectBody = Type.Object({ public: Type.Boolean() }, { additionalProperties: false });

/** The members a principal may be (itself and its groups), for visibility and roles. */
export function memberKeys(principal: Principal): { kind: MemberKind; name: string }[] {
  if (principal.kind !== 'user') return [];
  return [{ kind: 'user', name: principal.subject }, ...principal.groups.map((name) => ({ kind: 'group' as const, name }))];
}

export function registerProjectOperations(api: ManagementApi, { service }: ApiDeps): void {
  const view = async (project: Project, principal: Principal) => {
    const role = await service.authorizer.roleOf(principal, project);
    return {
      id: project.id,
      name: project.name,
      public: project.public,
      owner: project.owner,
      currentUserRole: role === undefined ? null : (roleById(role)?.name ?? null),
      createdAt: project.createdAt.toISOString(),
      updatedAt: project.updatedAt.toISOString(),
    };
  };

  api.operation({
    operationId: 'listProjects',
    method: 'GET',
    path: '/projects',
    tag: 'projects',
    summary: 'List the projects you can see',
    description: 'Public projects and those you are a member of (directly or through a group); administrators see all. Filters: `name` (exact or `~` substring), `public`. Default order: name.',
    list: true,
    anonymous: true,
    filters: ['name', 'public'],
    sorts: Object.keys(SORTS.projects),
    response: ProjectSchema,
    async handler(req) {
      await req.authorize({ resource: { type: 'system', name: 'project' }, action: 'list' });
      const { name, public: isPublic } = req.page.filters;
      if (isPublic && !['true', 'false'].includes(isPublic.value)) throw new ApiError('BAD_REQUEST', 'invalid query: q: public must be true or false');
      const page = await service.projects.list({
        page: req.page.page,
        pageSize: req.page.pageSize,
        sort: req.page.sort,
        ...(name ? { name: nameFilter(name)! } : {}),
        ...(isPublic ? { public: isPublic.value === 'true' } : {}),
        ...(req.principal.admin ? {} : { visibleTo: memberKeys(req.principal) }),
      });
      return { items: await Promise.all(page.items.map((p) => view(p, req.principal))), total: page.total };
    },
  });

  api.operation({
    operationId: 'createProject',
    method: 'POST',
    path: '/projects',
    tag: 'projects',
    summary: 'Create a project',
    description: 'Who may is set by `rbac.projects.creation`. The creator becomes its Project Admin.',
    body: CreateProjectBody,
    response: ProjectSchema,
    status: 201,
    async handler(req) {
      await req.authorize({ resource: { type: 'system', name: 'project' }, action: 'create' });
      const owner = req.principal.kind === 'user' ? req.principal.subject : null;
      const project = await mapped(() => recorded(service, req, projectsEvents.project.created,
        () => service.projects.create(req.body.name, { public: req.body.public ?? false, owner }),
        (p) => ({ resource: 'project', id: p.name, project: p.name, changes: { public: p.public } })));
      req.setHeader('Location', `/api/v1/projects/${project.name}`);
      req.logger.info({ project: project.name, public: project.public, by: req.principal.subject }, 'project created');
      return view(project, req.principal);
    },
  });

  api.operation({
    operationId: 'getProject',
    method: 'GET',
    path: '/projects/{project_name}',
    tag: 'projects',
    summary: 'Get a project',
    anonymous: true,
    params: ProjectParams,
    response: ProjectSchema,
    async handler(req) {
      await req.authorize({ resource: { type: 'project', name: req.params.project_name, resource: 'project' }, action: 'read' });
      return view(await mapped(() => service.projects.require(req.params.project_name)), req.principal);
    },
  });

  api.operation({
    operationId: 'updateProject',
    method: 'PUT',
    path: '/projects/{project_name}',
    tag: 'projects',
    summary: 'Make a project public or private',
    params: ProjectParams,
    body: UpdateProjectBody,
    response: ProjectSchema,
    async handler(req) {
      await req.authorize({ resource: { type: 'project', name: req.params.project_name, resource: 'project' }, action: 'update' });
      const project = await mapped(() => recorded(service, req, projectsEvents.project.updated,
        () => service.projects.setPublic(req.params.project_name, req.body.public),
        (p) => ({ resource: 'project', id: p.name, project: p.name, changes: { public: p.public } })));
      req.logger.info({ project: project.name, public: project.public, by: req.principal.subject }, 'project updated');
      return view(project, req.principal);
    },
  });

  api.operation({
    operationId: 'deleteProject',
    method: 'DELETE',
    path: '/projects/{project_name}',
    tag: 'projects',
    summary: 'Delete an empty project',
    description: 'Refused with 412 while the project holds repositories. Its members and robots go with it.',
    params: ProjectParams,
    async handler(req) {
      const name = req.params.project_name;
      await req.authorize({ resource: { type: 'project', name, resource: 'project' }, action: 'delete' });
      await mapped(() => service.projects.require(name));
      const repositories = await service.repositoryCount(name);
      if (repositories > 0) throw new ApiError('PRECONDITION_FAILED', `project "${name}" still holds ${repositories} ${repositories === 1 ? 'repository' : 'repositories'}: delete them first`);
      await mapped(() => recorded(service, req, projectsEvents.project.deleted, () => service.projects.delete(name), () => ({ resource: 'project', id: name, project: name })));
      req.logger.info({ project: name, by: req.principal.subject }, 'project deleted');
      return undefined;
    },
  });
}
