import {
  ApiError,
  eventContextOf,
  managementEvent,
  recordChange,
  Type,
  type AccessRequest,
  type ApiAction,
  type ApiErrorCode,
  type ApiRequest,
  type DatabaseService,
  type EventService,
  type ManagementApi,
  type Principal,
} from '@wharf/sdk';
import { LOCAL_PROVIDER } from './migrations.js';
import type { ExternalUsers } from './external-users.js';
import { MAX_USERNAME_LENGTH, USER_SORTS, UserDirectoryError, type DbUser, type UserDirectory, type UserDirectoryErrorCode } from './user-directory.js';

/**
 * The users API (`/api/v1/users`), Harbor's user management for the db provider. Every
 * operation asks `req.authorize` for `system` resource `user` (system administrators always
 * pass), except reading yourself and changing your own password. Nobody deletes, disables or
 * demotes themselves, and only system administrators create or promote administrators, so a
 * delegated "user manager" cannot make themselves one. Password hashes never leave the
 * directory. Refusals of the directory map to envelope codes: a bad name or a password that
 * breaks the policy is `BAD_REQUEST` (with the broken rules), a taken name `CONFLICT`, an
 * unknown user `NOT_FOUND`, the last administrator or an external user's password `CONFLICT`.
 */

export interface UsersApiDeps {
  readonly users: UserDirectory;
  readonly externalUsers: ExternalUsers;
  /** The database and events a change and its `management.user.*` event are recorded with. */
  readonly recorder: { readonly database: DatabaseService; readonly events: EventService };
}

const USER_EVENTS = {
  created: managementEvent('user', 'created'),
  updated: managementEvent('user', 'updated'),
  deleted: managementEvent('user', 'deleted'),
};

/**
 * Runs a directory change and records its user event in the same transaction (never a
 * password). A change that resolves `false` changed nothing and records nothing.
 */
function recorded<T>(deps: UsersApiDeps, req: ApiRequest<unknown, unknown, unknown>, action: keyof typeof USER_EVENTS, username: string, changes: Record<string, unknown> | undefined, change: () => Promise<T>): Promise<T> {
  return recordChange(deps.recorder, change, (result) => result === false ? undefined : ({
    type: USER_EVENTS[action],
    partition: `user:${username}`,
    data: { resource: 'user', id: username, ...(changes ? { changes } : {}) },
    ...eventContextOf(req.principal, req.request),
  }));
}

const DIRECTORY_CODES: Readonly<Record<UserDirectoryErrorCode, ApiErrorCode>> = {
  USERNAME_INVALID: 'BAD_REQUEST',
  PASSWORD_POLICY: 'BAD_REQUEST',
  USER_EXISTS: 'CONFLICT',
  USER_UNKNOWN: 'NOT_FOUND',
  LAST_ADMIN: 'CONFLICT',
  EXTERNAL_USER: 'CONFLICT',
};

/** A directory refusal in the envelope's terms; anything else passes through (a 500). */
export function toApiError(err: unknown): unknown {
  return err instanceof UserDirectoryError ? new ApiError(DIRECTORY_CODES[err.code], err.message) : err;
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toApiError(err);
  }
}

const Timestamp = Type.String({ format: 'date-time' });

const UserSchema = Type.Object(
  {
    username: Type.String(),
    provider: Type.String({ description: '`db` for local users, else the auth plugin of an external user (recorded on first login).' }),
    admin: Type.Boolean({ description: 'System administrator (for external users: as their provider last said).' }),
    disabled: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    passwordChangedAt: Type.Optional(Type.String({ format: 'date-time', description: 'Local users only.' })),
  },
  { $id: 'User', additionalProperties: false },
);

const UsernameParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: MAX_USERNAME_LENGTH }) });
const Password = Type.String({ minLength: 1, maxLength: 1024 });

const CreateUserBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: MAX_USERNAME_LENGTH, description: 'Lowercased on create.' }),
    password: Password,
    admin: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

const UpdateUserBody = Type.Object(
  { admin: Type.Optional(Type.Boolean()), disabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);

const PasswordBody = Type.Object(
  {
    oldPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Required when changing your own password.' })),
    newPassword: Password,
  },
  { additionalProperties: false },
);

function view(user: DbUser): DbUserView {
  return {
    username: user.username,
    provider: user.provider,
    admin: user.admin,
    disabled: user.disabled,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    ...(user.provider === LOCAL_PROVIDER ? { passwordChangedAt: user.passwordChangedAt.toISOString() } : {}),
  };
}
type DbUserView = {
  username: string;
  provider: string;
  admin: boolean;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  passwordChangedAt?: string;
};

const usersAccess = (action: ApiAction): AccessRequest => ({ resource: { type: 'system', name: 'user' }, action });

/** The caller is this user: same name and same provider (an LDAP "bob" is not the db "bob"). */
function isSelf(principal: Principal, user: DbUser): boolean {
  return principal.kind === 'user' && principal.subject === user.username && principal.provider === user.provider;
}

/** The user, for a caller who is that user or may `action` users; 404 only after the check. */
async function userFor(req: ApiRequest, users: UserDirectory, username: string, action: ApiAction): Promise<{ user: DbUser; self: boolean }> {
  const user = await users.get(username);
  if (user && isSelf(req.principal, user)) return { user, self: true };
  await req.authorize(usersAccess(action));
  if (!user) throw new ApiError('NOT_FOUND', `no user "${username}"`);
  return { user, self: false };
}

export function registerUsersApi(api: ManagementApi, deps: UsersApiDeps): void {
  const { users, externalUsers } = deps;

  api.operation({
    operationId: 'listUsers',
    method: 'GET',
    path: '/users',
    tag: 'users',
    summary: 'List users',
    description: 'Local users and the users of other providers recorded on their first login. `q=username=<name>` finds one user, `q=username=~<text>` names containing the text.',
    list: true,
    filters: ['username'],
    sorts: Object.keys(USER_SORTS),
    response: UserSchema,
    async handler(req) {
      await req.authorize(usersAccess('list'));
      const filter = req.page.filters.username;
      const page = await users.list({
        page: req.page.page,
        pageSize: req.page.pageSize,
        sort: req.page.sort,
        ...(filter?.op === 'eq' ? { username: filter.value } : {}),
        ...(filter?.op === 'fuzzy' ? { q: filter.value } : {}),
      });
      return { items: page.items.map(view), total: page.total };
    },
  });

  api.operation({
    operationId: 'createUser',
    method: 'POST',
    path: '/users',
    tag: 'users',
    summary: 'Create a local user',
    description: 'The password must meet the password policy; only system administrators may create administrators.',
    body: CreateUserBody,
    response: UserSchema,
    status: 201,
    async handler(req) {
      await req.authorize(usersAccess('create'));
      const { username, password, admin } = req.body;
      if (admin === true && !req.principal.admin) throw new ApiError('FORBIDDEN', 'only system administrators may create administrators');
      const user = await mapped(() => recorded(deps, req, 'created', username.toLowerCase(), { admin: admin === true }, () => users.create(username, password, { admin: admin === true })));
      req.setHeader('Location', `/api/v1/users/${encodeURIComponent(user.username)}`);
      req.logger.info({ user: user.username, admin: user.admin, by: req.principal.subject }, 'user created');
      return view(user);
    },
  });

  api.operation({
    operationId: 'getUser',
    method: 'GET',
    path: '/users/{username}',
    tag: 'users',
    summary: 'Get a user',
    description: 'Anyone may read themselves.',
    params: UsernameParams,
    response: UserSchema,
    async handler(req) {
      return view((await userFor(req, users, req.params.username, 'read')).user);
    },
  });

  api.operation({
    operationId: 'updateUser',
    method: 'PATCH',
    path: '/users/{username}',
    tag: 'users',
    summary: 'Grant or revoke admin, disable or enable a local user',
    description: 'Not on yourself. Only system administrators may grant admin. The last enabled administrator cannot be demoted or disabled (409).',
    params: UsernameParams,
    body: UpdateUserBody,
    response: UserSchema,
    async handler(req) {
      await req.authorize(usersAccess('update'));
      const directory = users;
      const { username } = req.params;
      let user = await directory.get(username);
      if (!user) throw new ApiError('NOT_FOUND', `no user "${username}"`);
      if (isSelf(req.principal, user)) throw new ApiError('FORBIDDEN', 'you cannot change your own admin flag or disable yourself');
      const { admin, disabled } = req.body;
      if (admin === true && !user.admin && !req.principal.admin) throw new ApiError('FORBIDDEN', 'only system administrators may grant admin');
      const before = user;
      user = await mapped(() => recorded(deps, req, 'updated', username, { admin, disabled }, async () => {
        let changed = before;
        if (admin !== undefined && admin !== changed.admin) changed = await directory.setAdmin(username, admin);
        if (disabled !== undefined && disabled !== changed.disabled) changed = await directory.setDisabled(username, disabled);
        return changed;
      }));
      req.logger.info({ user: username, admin, disabled, by: req.principal.subject }, 'user updated');
      return view(user);
    },
  });

  api.operation({
    operationId: 'deleteUser',
    method: 'DELETE',
    path: '/users/{username}',
    tag: 'users',
    summary: 'Delete a user',
    description: 'Not yourself, and not the last enabled administrator (409). Their tokens stop working within `token.activeCacheSeconds`. An external user is recorded again at their next login.',
    params: UsernameParams,
    async handler(req) {
      await req.authorize(usersAccess('delete'));
      const directory = users;
      const { username } = req.params;
      const user = await directory.get(username);
      if (!user) throw new ApiError('NOT_FOUND', `no user "${username}"`);
      if (isSelf(req.principal, user)) throw new ApiError('FORBIDDEN', 'you cannot delete yourself');
      if (!(await mapped(() => recorded(deps, req, 'deleted', username, undefined, () => directory.delete(username))))) throw new ApiError('NOT_FOUND', `no user "${username}"`);
      externalUsers.forget(user.provider, username);
      req.logger.info({ user: username, provider: user.provider, by: req.principal.subject }, 'user deleted');
      return undefined;
    },
  });

  api.operation({
    operationId: 'setUserPassword',
    method: 'PUT',
    path: '/users/{username}/password',
    tag: 'users',
    summary: 'Change your password, or reset another user\'s',
    description:
      'Yourself: send `oldPassword` and `newPassword` (a wrong old password is 403). Others (system administrators, or `update` on users): `newPassword` only. The policy applies; external users have no password here (409).',
    params: UsernameParams,
    body: PasswordBody,
    async handler(req) {
      const directory = users;
      const { username } = req.params;
      const { oldPassword, newPassword } = req.body;
      const { user, self } = await userFor(req, directory, username, 'update');
      if (user.provider !== LOCAL_PROVIDER) throw new ApiError('CONFLICT', `"${username}" is a user of ${user.provider}: it cannot have a password here`);
      if (self) {
        if (oldPassword === undefined) throw new ApiError('BAD_REQUEST', 'invalid body: /oldPassword: is required to change your own password');
        const check = await directory.verify(username, oldPassword);
        if (!check.ok) {
          req.logger.warn({ user: username }, 'password change with a wrong old password refused');
          throw new ApiError('FORBIDDEN', 'the old password is wrong');
        }
        if (oldPassword === newPassword) throw new ApiError('BAD_REQUEST', 'invalid body: /newPassword: must differ from the old password');
      }
      await mapped(() => recorded(deps, req, 'updated', username, { password: self ? 'changed' : 'reset' }, () => directory.setPassword(username, newPassword)));
      req.logger.info({ user: username, by: req.principal.subject, reset: !self }, self ? 'password changed' : 'password reset');
      return undefined;
    },
  });
}
