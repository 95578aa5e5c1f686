import { ANONYMOUS, RegistryError, type AccessRequest, type Principal } from '@wharf/sdk';
import { covers, decide, type DeniedAccess } from '../../../auth/grant.js';
import { scopesFor, type ResourceScope } from '../../../auth/scope.js';
import type { ChallengeError, TokenAuth } from '../../../auth/token-auth.js';
import { TokenError } from '../../../auth/token-service.js';
import { requestInfo, type V2Context, type V2Deps } from './context.js';

/**
 * Who the caller is and whether they may do what the route needs.
 *
 * Without token auth: through the `auth` and `rbac` hooks, Basic credentials through the kernel's
 * authenticator (credential cache, failed-login slowdown). With no RBAC tap at all the registry
 * is open (the kernel warned at boot), like distribution without an auth section.
 *
 * With token auth (`token.enabled`): a Bearer token must cover every access the request needs
 * (its `access` claim decides, no hook is asked); Basic credentials are checked through the
 * authenticator and RBAC directly, so curl and simple CI tools work; anything else gets a 401
 * with a Bearer challenge naming exactly the scope the request needs.
 */

/** How the request authenticated, between `authenticate` and `authorize` (token auth only). */
type Outcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly access: readonly ResourceScope[]; readonly denied: readonly DeniedAccess[] }
  | { readonly kind: 'basic' }
  | { readonly kind: 'invalid'; readonly error: ChallengeError | undefined };

const outcomes = new WeakMap<V2Context, Outcome>();

function tokenAuthOf(deps: V2Deps): TokenAuth | undefined {
  return deps.token;
}

function parseBasic(value: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  return sep < 0 ? undefined : { username: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
}

export async function authenticate(ctx: V2Context, deps: V2Deps): Promise<Principal> {
  const token = tokenAuthOf(deps);
  if (token) return authenticateWithToken(ctx, token);
  const header = ctx.get('authorization');
  const info = requestInfo(ctx);
  const { auth } = deps.hooks;
  // Without any auth provider, credentials are ignored, as distribution does without auth.
  if (!header || !auth.authenticate.isUsed()) return ctx.state.principal ?? ANONYMOUS;
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  let principal: Principal | undefined;
  if (scheme.toLowerCase() === 'basic') {
    const basic = parseBasic(value);
    if (!basic) throw unauthorized(deps, 'malformed Basic credentials');
    // The kernel's authenticator, as for the token endpoint and /api/v1: verified credentials are
    // cached (a pull is many requests, each would cost a password hash), failures are logged and
    // slow the next attempts down. Its principal is already enriched by `auth.principal`.
    const outcome = await deps.auth.authenticator.authenticate({ kind: 'basic', ...basic }, info);
    if (!outcome.ok) throw unauthorized(deps, 'invalid credentials');
    return outcome.principal;
  } else if (scheme.toLowerCase() === 'bearer') {
    principal = await auth.authenticate.promise({ kind: 'bearer', token: value }, info);
  } else {
    throw unauthorized(deps, 'unsupported authorization scheme');
  }
  // Credentials nobody recognises are refused, never silently downgraded to anonymous.
  if (!principal) throw unauthorized(deps, 'invalid credentials');
  return auth.principal.isUsed() ? auth.principal.promise(principal, info) : principal;
}

/**
 * Token mode never refuses here: the challenge must name the scope the request needs, which
 * only `authorize` knows, so a bad token or password is recorded and refused there.
 */
async function authenticateWithToken(ctx: V2Context, token: TokenAuth): Promise<Principal> {
  const header = ctx.get('authorization');
  const record = (outcome: Outcome, principal: Principal = ANONYMOUS) => {
    outcomes.set(ctx, outcome);
    return principal;
  };
  if (!header) return record({ kind: 'none' });
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer') {
    try {
      const verified = await token.tokens.verifyAccessToken(value);
      if (!(await token.active.isActive(verified.principal))) {
        ctx.state.log?.info({ user: verified.principal.subject, provider: verified.principal.provider }, 'bearer token of an inactive account refused');
        return record({ kind: 'invalid', error: 'invalid_token' });
      }
      return record({ kind: 'bearer', access: verified.access, denied: verified.denied }, verified.principal);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      ctx.state.log?.info({ reason: err.reason }, 'bearer token refused');
      return record({ kind: 'invalid', error: 'invalid_token' });
    }
  }
  if (scheme.toLowerCase() === 'basic') {
    const basic = parseBasic(value);
    if (!basic) return record({ kind: 'invalid', error: undefined });
    const outcome = await token.authenticator.authenticate({ kind: 'basic', ...basic }, requestInfo(ctx));
    return outcome.ok ? record({ kind: 'basic' }, outcome.principal) : record({ kind: 'invalid', error: undefined });
  }
  return record({ kind: 'invalid', error: undefined });
}

/** Throws `UNAUTHORIZED` (anonymous caller or token mode) or `DENIED` unless every access is allowed. */
export async function authorize(ctx: V2Context, deps: V2Deps, accesses: readonly AccessRequest[]): Promise<void> {
  const token = tokenAuthOf(deps);
  if (token) return authorizeWithToken(ctx, token, deps, accesses);
  const { authorize: hook } = deps.hooks.rbac;
  if (!hook.isUsed()) return;
  const principal = ctx.state.principal;
  for (const access of accesses) {
    const decision = await hook.promise(principal, access);
    if (decision?.allow) continue;
    const reason = refused(ctx, principal, access, decision?.reason);
    const detail = [detailOf(access)];
    if (principal.kind === 'anonymous') throw unauthorized(deps, authenticationRequired(reason), detail);
    throw new RegistryError('DENIED', denied(reason), { detail });
  }
}

async function authorizeWithToken(ctx: V2Context, token: TokenAuth, deps: V2Deps, accesses: readonly AccessRequest[]): Promise<void> {
  const outcome = outcomes.get(ctx) ?? { kind: 'none' };
  const challenge = (missing: readonly AccessRequest[], error: ChallengeError | undefined, message?: string, reason?: string) =>
    new RegistryError('UNAUTHORIZED', message, {
      detail: missing.length > 0 ? missing.map(detailOf) : undefined,
      headers: { 'WWW-Authenticate': token.challenge(scopesFor(accesses), error, reason) },
    });
  switch (outcome.kind) {
    case 'bearer': {
      const missing = accesses.filter((a) => !covers(outcome.access, a));
      if (missing.length === 0) return;
      // The token service recorded why it refused; a token that never asked for this access has no reason.
      const why = missing.map((a) => outcome.denied.find((d) => d.type === a.resource.type && d.name === a.resource.name && d.action === a.action)?.reason).find((r) => r !== undefined);
      const reason = why === undefined ? undefined : refused(ctx, ctx.state.principal, missing[0]!, why);
      throw challenge(missing, 'insufficient_scope', reason === undefined ? 'token does not grant the requested access' : `token does not grant the requested access: ${reason}`, reason);
    }
    case 'basic': {
      const principal = ctx.state.principal;
      for (const access of accesses) {
        const decision = await decide(deps.hooks.rbac, principal, access);
        if (decision.allow) continue;
        const reason = refused(ctx, principal, access, decision.reason);
        if (principal.kind === 'anonymous') throw challenge([access], undefined, authenticationRequired(reason));
        throw new RegistryError('DENIED', denied(reason), { detail: [detailOf(access)] });
      }
      return;
    }
    case 'invalid':
      throw challenge(accesses, outcome.error, outcome.error ? 'invalid or expired token' : 'invalid credentials');
    case 'none':
      throw challenge(accesses, undefined);
  }
}

/** Logs a refusal with its reason and returns the reason (bounded: it came from a plugin). */
function refused(ctx: V2Context, principal: Principal, access: AccessRequest, reason: string | undefined): string {
  const why = (reason ?? 'no reason given').slice(0, 300);
  ctx.state.log?.info({ subject: principal.subject, kind: principal.kind, resource: access.resource.name, action: access.action, reason: why }, 'access denied');
  return why;
}

const denied = (reason: string) => `requested access to the resource is denied: ${reason}`;
const authenticationRequired = (reason: string) => `authentication required: ${reason}`;

function detailOf(access: AccessRequest) {
  return { type: access.resource.type, name: access.resource.name, action: access.action };
}

function unauthorized(deps: V2Deps, message?: string, detail?: unknown): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, {
    detail,
    headers: { 'WWW-Authenticate': `Basic realm="${new URL(deps.publicUrl).host}"` },
  });
}
