import { ANONYMOUS, RegistryError, type AccessRequest, type Principal } from '@wharf/sdk';
import { requestInfo, type V2Context, type V2Deps } from './context.js';

/**
 * Who the caller is and whether they may do what the route needs, through the `auth` and `rbac`
 * hooks. With no RBAC tap at all the registry is open (the kernel warned at boot), like
 * distribution without an auth section.
 */
export async function authenticate(ctx: V2Context, deps: V2Deps): Promise<Principal> {
  const header = ctx.get('authorization');
  const info = requestInfo(ctx);
  const { auth } = deps.hooks;
  // Without any auth provider, credentials are ignored, as distribution does without auth.
  if (!header || !auth.authenticate.isUsed()) return ctx.state.principal ?? ANONYMOUS;
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  let principal: Principal | undefined;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    if (sep < 0) throw unauthorized(deps, 'malformed Basic credentials');
    principal = await auth.authenticate.promise({ kind: 'basic', username: decoded.slice(0, sep), password: decoded.slice(sep + 1) }, info);
  } else if (scheme.toLowerCase() === 'bearer') {
    principal = await auth.authenticate.promise({ kind: 'bearer', token: value }, info);
  } else {
    throw unauthorized(deps, 'unsupported authorization scheme');
  }
  // Credentials nobody recognises are refused, never silently downgraded to anonymous.
  if (!principal) throw unauthorized(deps, 'invalid credentials');
  return auth.principal.isUsed() ? auth.principal.promise(principal, info) : principal;
}

/** Throws `UNAUTHORIZED` (anonymous caller) or `DENIED` unless every access is allowed. */
export async function authorize(ctx: V2Context, deps: V2Deps, accesses: readonly AccessRequest[]): Promise<void> {
  const { authorize: hook } = deps.hooks.rbac;
  if (!hook.isUsed()) return;
  const principal = ctx.state.principal;
  for (const access of accesses) {
    const decision = await hook.promise(principal, access);
    if (decision?.allow) continue;
    const detail = [{ type: access.resource.type, name: access.resource.name, action: access.action }];
    if (principal.kind === 'anonymous') throw unauthorized(deps, undefined, detail);
    throw new RegistryError('DENIED', undefined, { detail });
  }
}

function unauthorized(deps: V2Deps, message?: string, detail?: unknown): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, {
    detail,
    headers: { 'WWW-Authenticate': `Basic realm="${new URL(deps.publicUrl).host}"` },
  });
}
