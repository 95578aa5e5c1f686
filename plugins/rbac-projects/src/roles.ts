import type { ApiAction } from '@wharf/sdk';

/**
 * Harbor's five project roles, with Harbor's ids, and the permission matrix of harbor.md 1.4
 * for the resources Wharf has. `repository` carries the registry actions (`pull`, `push`, and
 * `delete` for deletes on `/v2/`) next to the API actions. Anything not listed is denied.
 */

export const ROLES = Object.freeze({
  projectAdmin: { id: 1, name: 'projectAdmin', title: 'Project Admin' },
  developer: { id: 2, name: 'developer', title: 'Developer' },
  guest: { id: 3, name: 'guest', title: 'Guest' },
  maintainer: { id: 4, name: 'maintainer', title: 'Maintainer' },
  limitedGuest: { id: 5, name: 'limitedGuest', title: 'Limited Guest' },
} as const);

export type RoleName = keyof typeof ROLES;
export type RoleId = (typeof ROLES)[RoleName]['id'];
export const ROLE_IDS: readonly RoleId[] = [1, 2, 3, 4, 5];

/** Higher is more: used when a user is a member directly and through groups. */
const RANK: Readonly<Record<RoleId, number>> = { 1: 5, 4: 4, 2: 3, 3: 2, 5: 1 };

export function roleById(id: number): (typeof ROLES)[RoleName] | undefined {
  return Object.values(ROLES).find((r) => r.id === id);
}

export function roleByName(name: string): (typeof ROLES)[RoleName] | undefined {
  return Object.hasOwn(ROLES, name) ? ROLES[name as RoleName] : undefined;
}

/** A table's own entry: names like `constructor` come from callers and must not reach the prototype. */
function own<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The strongest of several roles (a user's own membership and their groups'). */
export function strongestRole(ids: readonly RoleId[]): RoleId | undefined {
  let best: RoleId | undefined;
  for (const id of ids) if (best === undefined || RANK[id] > RANK[best]) best = id;
  return best;
}

export type RegistryAction = 'pull' | 'push' | 'delete';
export type ProjectAction = ApiAction | RegistryAction;

/** Project-scope resources Wharf has, with what each role may do (harbor.md 1.4). */
type Matrix = Readonly<Record<string, Readonly<Record<RoleId, readonly ProjectAction[]>>>>;

const C = 'create', R = 'read', U = 'update', D = 'delete', L = 'list';

export const MATRIX: Matrix = Object.freeze({
  project: { 1: [R, U, D], 4: [R], 2: [R], 3: [R], 5: [R] },
  member: { 1: [C, R, U, D, L], 4: [R, L], 2: [R, L], 3: [R, L], 5: [] },
  metadata: { 1: [C, R, U, D], 4: [R], 2: [], 3: [], 5: [] },
  // Harbor lets only Project Admins read the project's log; Maintainers, who push and delete
  // there, may read it too (what was done in the project, by whom).
  log: { 1: [L], 4: [L], 2: [], 3: [], 5: [] },
  repository: {
    1: [C, R, U, D, L, 'pull', 'push', 'delete'],
    4: [C, R, U, D, L, 'pull', 'push', 'delete'],
    2: [C, R, U, L, 'pull', 'push'],
    3: [R, L, 'pull'],
    5: [R, L, 'pull'],
  },
  robot: { 1: [C, R, U, D, L], 4: [R, L], 2: [R, L], 3: [R, L], 5: [] },
  artifact: { 1: [C, R, D, L], 4: [C, R, D, L], 2: [C, R, L], 3: [R, L], 5: [R, L] },
  tag: { 1: [C, D, L], 4: [C, D, L], 2: [C, L], 3: [L], 5: [L] },
  // Webhook policies (the webhooks plugin): Project Admins and Maintainers manage them.
  'notification-policy': { 1: [C, R, U, D, L], 4: [C, R, U, D, L], 2: [], 3: [], 5: [] },
  // Tag retention (the tag-retention plugin): Harbor lets Developers manage it too; a policy
  // deletes artifacts, which Developers may not do by hand, so here only Project Admins and
  // Maintainers (who may delete) manage and run it.
  'tag-retention': { 1: [C, R, U, D, L], 4: [C, R, U, D, L], 2: [], 3: [], 5: [] },
  // Tag immutability rules (the tag-immutability plugin): Project Admins and Maintainers, as in Harbor.
  'immutable-tag': { 1: [C, R, U, D, L], 4: [C, R, U, D, L], 2: [], 3: [], 5: [] },
});

/** What anyone, even anonymous, may do in a public project (Harbor's public-project policy). */
export const PUBLIC_PROJECT: Readonly<Record<string, readonly ProjectAction[]>> = Object.freeze({
  project: [R],
  repository: [R, L, 'pull'],
  tag: [L],
  artifact: [R, L],
});

export function roleAllows(role: RoleId, resource: string, action: string): boolean {
  return (own(MATRIX, resource)?.[role] ?? []).includes(action as ProjectAction);
}

export function publicAllows(resource: string, action: string): boolean {
  return (own(PUBLIC_PROJECT, resource) ?? []).includes(action as ProjectAction);
}

/** Resources and actions a robot may be given (Harbor's explicit robot permissions). */
export const ROBOT_PERMISSIONS: Readonly<Record<string, readonly ProjectAction[]>> = Object.freeze({
  repository: ['pull', 'push', 'delete', R, L],
  artifact: [R, L, D],
  tag: [C, D, L],
  member: [R, L],
  robot: [R, L],
  project: [R],
});

export function robotMayHave(resource: string, action: string): boolean {
  return (own(ROBOT_PERMISSIONS, resource) ?? []).includes(action as ProjectAction);
}
