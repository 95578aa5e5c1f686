import { Type, type ApiAction, type AccessRequest, type ManagementApi } from '@wharf/sdk';
import { SORTS, type UserGroup } from '../project-store.js';
import { projectsEvents, recorded } from '../events.js';
import { mapped, nameFilter, type ApiDeps } from './common.js';

/** `/usergroups`: groups that can be project members (system administrators only). */

const GroupType = Type.Union([Type.Literal('ldap'), Type.Literal('http'), Type.Literal('oidc'), Type.Literal('local')]);

const UserGroupSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String({ description: 'Matched against the group names auth plugins put in `principal.groups` (LDAP: the group cn).' }),
    type: GroupType,
    externalId: Type.Union([Type.String(), Type.Null()], { description: 'e.g. the LDAP group DN, for reference.' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'UserGroup', additionalProperties: false },
);

const GroupParams = Type.Object({ group_id: Type.Integer({ minimum: 1 }) });

function view(group: UserGroup) {
  return { id: group.id, name: group.name, type: group.type, externalId: group.externalId, createdAt: group.createdAt.toISOString() };
}

const groupsAccess = (action: ApiAction): AccessRequest => ({ resource: { type: 'system', name: 'user-group' }, action });

export function registerUserGroupOperations(api: ManagementApi, { service }: ApiDeps): void {
  api.operation({
    operationId: 'listUserGroups',
    method: 'GET',
    path: '/usergroups',
    tag: 'usergroups',
    summary: 'List user groups',
    list: true,
    filters: ['name'],
    sorts: Object.keys(SORTS.groups),
    response: UserGroupSchema,
    async handler(req) {
      await req.authorize(groupsAccess('list'));
      const page = await service.projects.listGroups({
        page: req.page.page,
        pageSize: req.page.pageSize,
        sort: req.page.sort,
        ...(req.page.filters.name ? { name: nameFilter(req.page.filters.name)! } : {}),
      });
      return { items: page.items.map(view), total: page.total };
    },
  });

  api.operation({
    operationId: 'createUserGroup',
    method: 'POST',
    path: '/usergroups',
    tag: 'usergroups',
    summary: 'Create a user group',
    body: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 255 }),
        type: Type.Optional(GroupType),
        externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
      },
      { additionalProperties: false },
    ),
    response: UserGroupSchema,
    status: 201,
    async handler(req) {
      await req.authorize(groupsAccess('create'));
      const group = await mapped(() => recorded(service, req, projectsEvents.userGroup.created,
        () => service.projects.createGroup(req.body.name, req.body.type ?? 'ldap', req.body.externalId ?? null),
        (g) => ({ resource: 'user-group', id: String(g.id), changes: { name: g.name, type: g.type } })));
      req.setHeader('Location', `/api/v1/usergroups/${group.id}`);
      req.logger.info({ group: group.name, type: group.type, by: req.principal.subject }, 'user group created');
      return view(group);
    },
  });

  api.operation({
    operationId: 'getUserGroup',
    method: 'GET',
    path: '/usergroups/{group_id}',
    tag: 'usergroups',
    summary: 'Get a user group',
    params: GroupParams,
    response: UserGroupSchema,
    async handler(req) {
      await req.authorize(groupsAccess('read'));
      return view(await mapped(() => service.projects.getGroup(req.params.group_id)));
    },
  });

  api.operation({
    operationId: 'updateUserGroup',
    method: 'PUT',
    path: '/usergroups/{group_id}',
    tag: 'usergroups',
    summary: 'Rename a user group or change its external id',
    description: 'Renaming keeps the group\'s project memberships: they follow the new name.',
    params: GroupParams,
    body: Type.Object(
      {
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        externalId: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Null()])),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
    response: UserGroupSchema,
    async handler(req) {
      await req.authorize(groupsAccess('update'));
      const { name, externalId } = req.body;
      const group = await mapped(() => recorded(service, req, projectsEvents.userGroup.updated,
        () => service.projects.updateGroup(req.params.group_id, { ...(name !== undefined ? { name } : {}), ...(externalId !== undefined ? { externalId } : {}) }),
        (g) => ({ resource: 'user-group', id: String(g.id), changes: { name: g.name } })));
      req.logger.info({ group: group.name, by: req.principal.subject }, 'user group updated');
      return view(group);
    },
  });

  api.operation({
    operationId: 'deleteUserGroup',
    method: 'DELETE',
    path: '/usergroups/{group_id}',
    tag: 'usergroups',
    summary: 'Delete a user group and its project memberships',
    params: GroupParams,
    async handler(req) {
      await req.authorize(groupsAccess('delete'));
      await mapped(() => recorded(service, req, projectsEvents.userGroup.deleted,
        () => service.projects.deleteGroup(req.params.group_id), () => ({ resource: 'user-group', id: String(req.params.group_id) })));
      req.logger.info({ groupId: req.params.group_id, by: req.principal.subject }, 'user group deleted');
      return undefined;
    },
  });
}
