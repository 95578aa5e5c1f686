import type { AccessRequest, Decision, Principal, RbacHooks } from '@wharf/sdk';
import { isRepositoryName } from '../registry/names.js';
import { mergeScopes, type ResourceScope } from './scope.js';

/**
 * What a caller gets: for each requested scope, the actions `rbac.authorize` allows. A partial
 * or empty grant is not an error (the spec says so: the registry refuses later, with a
 * challenge). Without any RBAC tap the registry is open and every repository action asked is
 * granted; the catalog is for system administrators only, whatever RBAC says.
 */

export const REPOSITORY_ACTIONS = ['pull', 'push', 'delete'] as const;

/** A repository action the token service refused, with the RBAC answer's reason (for the client). */
export interface DeniedAccess {
  readonly type: string;
  readonly name: string;
  readonly action: string;
  readonly reason: string;
}

const ALLOW: Decision = Object.freeze({ allow: true });
const NO_ANSWER = 'requested access to the resource is denied';

/**
 * The decision on `access`: the catalog for admins, the rest as RBAC decides. Without any RBAC
 * tap, repositories are open (as distribution without auth) while management resources
 * (`project`, `system`) are refused: nobody could ever be denied otherwise. A refusal always
 * carries a reason; the RBAC plugin's own when it gave one (it must not reveal what the caller
 * may not see: that is the plugin's contract).
 */
export async function decide(rbac: RbacHooks, principal: Principal, access: AccessRequest): Promise<Decision> {
  if (access.resource.type === 'registry') {
    return access.resource.name === 'catalog' && access.action === '*' && principal.admin ? ALLOW : { allow: false, reason: 'the catalog is for system administrators only' };
  }
  if (!rbac.authorize.isUsed()) return access.resource.type === 'repository' ? ALLOW : { allow: false, reason: NO_ANSWER };
  const decision = await rbac.authorize.promise(principal, access);
  if (decision?.allow) return ALLOW;
  return { allow: false, reason: decision?.reason || NO_ANSWER };
}

/** True when the principal may do `access` (see {@link decide}). */
export async function mayDo(rbac: RbacHooks, principal: Principal, access: AccessRequest): Promise<boolean> {
  return (await decide(rbac, principal, access)).allow;
}

/**
 * The management API's decision (`req.may`): system administrators may do everything, anyone
 * else as {@link mayDo} says.
 */
export async function mayManage(rbac: RbacHooks, principal: Principal, access: AccessRequest): Promise<boolean> {
  if (principal.admin && principal.kind !== 'anonymous') return true;
  return mayDo(rbac, principal, access);
}

async function grantRepository(rbac: RbacHooks, principal: Principal, scope: ResourceScope, denied: DeniedAccess[]): Promise<string[]> {
  if (!isRepositoryName(scope.name)) return [];
  const granted: string[] = [];
  const wantsAll = scope.actions.includes('*');
  // `*` means every repository action: granted whole when each is allowed, else what is allowed.
  const candidates = wantsAll ? [...REPOSITORY_ACTIONS] : scope.actions.filter((a) => (REPOSITORY_ACTIONS as readonly string[]).includes(a));
  for (const action of candidates) {
    const decision = await decide(rbac, principal, { resource: { type: 'repository', name: scope.name }, action });
    if (decision.allow) granted.push(action);
    else denied.push({ type: 'repository', name: scope.name, action, reason: decision.reason ?? NO_ANSWER });
  }
  if (wantsAll && granted.length === REPOSITORY_ACTIONS.length) return ['*'];
  return granted;
}

/** What the token service grants, and why each repository action it left out was refused. */
export interface Grant {
  readonly granted: ResourceScope[];
  readonly denied: DeniedAccess[];
}

/** The intersection of what was asked and what the principal may do, with the refusals' reasons. */
export async function grantWithReasons(rbac: RbacHooks, principal: Principal, requested: readonly ResourceScope[]): Promise<Grant> {
  const granted: ResourceScope[] = [];
  const denied: DeniedAccess[] = [];
  for (const scope of mergeScopes(requested)) {
    let actions: string[] = [];
    if (scope.type === 'repository') actions = await grantRepository(rbac, principal, scope, denied);
    else if (scope.type === 'registry' && scope.name === 'catalog' && scope.actions.includes('*')) {
      if (await mayDo(rbac, principal, { resource: { type: 'registry', name: 'catalog' }, action: '*' })) actions = ['*'];
    }
    if (actions.length > 0) granted.push({ type: scope.type, name: scope.name, actions });
  }
  return { granted, denied };
}

/** The intersection of what was asked and what the principal may do. Unknown types and actions are dropped. */
export async function grantScopes(rbac: RbacHooks, principal: Principal, requested: readonly ResourceScope[]): Promise<ResourceScope[]> {
  return (await grantWithReasons(rbac, principal, requested)).granted;
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
