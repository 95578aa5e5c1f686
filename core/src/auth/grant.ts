import type { AccessRequest, Principal, RbacHooks } from '@wharf/sdk';
import { isRepositoryName } from '../registry/names.js';
import { mergeScopes, type ResourceScope } from './scope.js';

/**
 * What a caller gets: for each requested scope, the actions `rbac.authorize` allows. A partial
 * or empty grant is not an error (the spec says so: the registry refuses later, with a
 * challenge). Without any RBAC tap the registry is open and every repository action asked is
 * granted; the catalog is for system administrators only, whatever RBAC says.
 */

export const REPOSITORY_ACTIONS = ['pull', 'push', 'delete'] as const;

/**
 * True when the principal may do `access`: the catalog for admins, the rest as RBAC decides.
 * Without any RBAC tap, repositories are open (as distribution without auth) while management
 * resources (`project`, `system`) are refused: nobody could ever be denied otherwise.
 */
export async function mayDo(rbac: RbacHooks, principal: Principal, access: AccessRequest): Promise<boolean> {
  if (access.resource.type === 'registry') return access.resource.name === 'catalog' && access.action === '*' && principal.admin;
  if (!rbac.authorize.isUsed()) return access.resource.type === 'repository';
  const decision = await rbac.authorize.promise(principal, access);
  return decision?.allow === true;
}

/**
 * The management API's decision (`req.may`): system administrators may do everything, anyone
 * else as {@link mayDo} says.
 */
export async function mayManage(rbac: RbacHooks, principal: Principal, access: AccessRequest): Promise<boolean> {
  if (principal.admin && principal.kind !== 'anonymous') return true;
  return mayDo(rbac, principal, access);
}

async function grantRepository(rbac: RbacHooks, principal: Principal, scope: ResourceScope): Promise<string[]> {
  if (!isRepositoryName(scope.name)) return [];
  const ask = (action: string) => mayDo(rbac, principal, { resource: { type: 'repository', name: scope.name }, action });
  const granted: string[] = [];
  const wantsAll = scope.actions.includes('*');
  // `*` means every repository action: granted whole when each is allowed, else what is allowed.
  const candidates = wantsAll ? [...REPOSITORY_ACTIONS] : scope.actions.filter((a) => (REPOSITORY_ACTIONS as readonly string[]).includes(a));
  for (const action of candidates) if (await ask(action)) granted.push(action);
  if (wantsAll && granted.length === REPOSITORY_ACTIONS.length) return ['*'];
  return granted;
}

/** The intersection of what was asked and what the principal may do. Unknown types and actions are dropped. */
export async function grantScopes(rbac: RbacHooks, principal: Principal, requested: readonly ResourceScope[]): Promise<ResourceScope[]> {
  const out: ResourceScope[] = [];
  for (const scope of mergeScopes(requested)) {
    let actions: string[] = [];
    if (scope.type === 'repository') actions = await grantRepository(rbac, principal, scope);
    else if (scope.type === 'registry' && scope.name === 'catalog' && scope.actions.includes('*')) {
      if (await mayDo(rbac, principal, { resource: { type: 'registry', name: 'catalog' }, action: '*' })) actions = ['*'];
    }
    if (actions.length > 0) out.push({ type: scope.type, name: scope.name, actions });
  }
  return out;
}

/** True when a token's `access` claim covers `access`; `*` on a repository covers every action. */
export function covers(granted: readonly ResourceScope[], access: AccessRequest): boolean {
  return granted.some(
    (g) =>
      g.type === access.resource.type &&
      g.name === access.resource.name &&
      (g.actions.includes(access.action) || (g.type === 'repository' && g.actions.includes('*'))),
  );
}
