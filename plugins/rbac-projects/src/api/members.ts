import { ApiError, Type, type ApiAction, type AccessRequest, type ManagementApi } from '@wharf/sdk';
import { SORTS, type Member } from '../project-store.js';
import { roleById, roleByName, ROLES } from '../roles.js';
import { projectsEvents, recorded } from '../events.js';
import { mapped, nameFilter, type ApiDeps } from './common.js';
import { ProjectParams } from './projects.js';

/** `/projects/{project_name}/members`: users and groups with a role. */

const MemberSchema = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.Union([Type.Literal('user'), Type.Literal('group')]),
    name: Type.String({ description: 'A user name, or a user group name (as in `principal.groups`, e.g. an LDAP group).' }),
    roleId: Type.Integer({ description: '1 Project Admin, 2 Developer, 3 Guest, 4 Maintainer, 5 Limited Guest.' }),
    roleName: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Member', additionalProperties: false },
);

const RoleId = Type.Integer({ minimum: 1, maximum: 5, description: '1 Project Admin, 2 Developer, 3 Guest, 4 Maintainer, 5 Limited Guest.' });
const RoleName = Type.Union(
  Object.values(ROLES).map((r) => Type.Literal(r.name)),
  { description: 'The role by name, instead of `roleId`.' },
);
const RoleFields = { roleId: Type.Optional(RoleId), roleName: Type.Optional(RoleName) };

/** The role a body names, by id or by name (exactly one of them). */
function roleOfBody(body: { roleId?: number | undefined; roleName?: string | undefined }): number {
  if ((body.roleId === undefined) === (body.roleName === undefined)) throw new ApiError('BAD_REQUEST', 'invalid body: give exactly one of roleId and roleName');
  return body.roleId ?? roleByName(body.roleName as string)!.id;
}

const AddMemberBody = Type.Object(
  {
    ...RoleFields,
    memberUser: Type.Optional(Type.Object({ username: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false })),
    memberGroup: Type.Optional(Type.Object({ groupName: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

const MemberParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }), member_id: Type.Integer({ minimum: 1 }) });

function view(member: Member) {
  return {
    id: member.id,
    kind: member.kind,
    name: member.name,
    roleId: member.role,
    roleName: roleById(member.role)?.name ?? 'unknown',
    createdAt: member.createdAt.toISOString(),
  };
}

const membersAccess = (project: string, action: ApiAction): AccessRequest => ({ resource: { type: 'project', name: project, resource: 'member' }, action });

export function registerMemberOperations(api: ManagementApi, { service }: ApiDeps): void {
  api.operation({
    operationId: 'listMembers',
    method: 'GET',
    path: '/projects/{project_name}/members',
    tag: 'members',
    summary: "List a project's members",
    description: 'Filter: `name` (exact or `~` substring). Default order: kind, then name.',
    list: true,
    filters: ['name'],
    sorts: Object.keys(SORTS.members),
    params: ProjectParams,
    response: MemberSchema,
    async handler(req) {
      await req.authorize(membersAccess(req.params.project_name, 'list'));
      const page = await mapped(() =>
        service.projects.listMembers(req.params.project_name, {
          page: req.page.page,
          pageSize: req.page.pageSize,
          sort: req.page.sort,
          ...(req.page.filters.name ? { name: nameFilter(req.page.filters.name)! } : {}),
        }),
      );
      return { items: page.items.map(view), total: page.total };
    },
  });

  api.operation({
    operationId: 'addMember',
    method: 'POST',
    path: '/projects/{project_name}/members',
    tag: 'members',
    summary: 'Add a user or a group to a project',
    description:
      'Exactly one of `memberUser` and `memberGroup`. A user need not have logged in yet (LDAP users appear at their first login); a group must exist in `/usergroups`.',
    params: ProjectParams,
    body: AddMemberBody,
    response: MemberSchema,
    status: 201,
    async handler(req) {
      const project = req.params.project_name;
      await req.authorize(membersAccess(project, 'create'));
      const { memberUser, memberGroup } = req.body;
      const roleId = roleOfBody(req.body);
      if ((memberUser === undefined) === (memberGroup === undefined)) throw new ApiError('BAD_REQUEST', 'invalid body: give exactly one of memberUser and memberGroup');
      const member = await mapped(() => recorded(service, req, projectsEvents.member.created,
        () => memberUser ? service.projects.addMember(project, 'user', memberUser.username, roleId) : service.projects.addMember(project, 'group', memberGroup!.groupName, roleId),
        (m) => ({ resource: 'member', id: String(m.id), project, changes: { kind: m.kind, name: m.name, role: m.role } }),
      ));
      req.setHeader('Location', `/api/v1/projects/${project}/members/${member.id}`);
      req.logger.info({ project, member: member.name, kind: member.kind, role: member.role, by: req.principal.subject }, 'member added');
      return view(member);
    },
  });

  api.operation({
    operationId: 'getMember',
    method: 'GET',
    path: '/projects/{project_name}/members/{member_id}',
    tag: 'members',
    summary: 'Get a member',
    params: MemberParams,
    response: MemberSchema,
    async handler(req) {
      await req.authorize(membersAccess(req.params.project_name, 'read'));
      return view(await mapped(() => service.projects.getMember(req.params.project_name, req.params.member_id)));
    },
  });

  api.operation({
    operationId: 'updateMember',
    method: 'PUT',
    path: '/projects/{project_name}/members/{member_id}',
    tag: 'members',
    summary: "Change a member's role",
    params: MemberParams,
    body: Type.Object(RoleFields, { additionalProperties: false }),
    response: MemberSchema,
    async handler(req) {
      await req.authorize(membersAccess(req.params.project_name, 'update'));
      const roleId = roleOfBody(req.body);
      const member = await mapped(() => recorded(service, req, projectsEvents.member.updated,
        () => service.projects.setMemberRole(req.params.project_name, req.params.member_id, roleId),
        (m) => ({ resource: 'member', id: String(m.id), project: req.params.project_name, changes: { kind: m.kind, name: m.name, role: m.role } })));
      req.logger.info({ project: req.params.project_name, member: member.name, role: member.role, by: req.principal.subject }, 'member role changed');
      return view(member);
    },
  });

  api.operation({
    operationId: 'removeMember',
    method: 'DELETE',
    path: '/projects/{project_name}/members/{member_id}',
    tag: 'members',
    summary: 'Remove a member',
    params: MemberParams,
    async handler(req) {
      await req.authorize(membersAccess(req.params.project_name, 'delete'));
      await mapped(() => recorded(service, req, projectsEvents.member.deleted,
        () => service.projects.removeMember(req.params.project_name, req.params.member_id),
        () => ({ resource: 'member', id: String(req.params.member_id), project: req.params.project_name })));
      req.logger.info({ project: req.params.project_name, memberId: req.params.member_id, by: req.principal.subject }, 'member removed');
      return undefined;
    },
  });
}
