import { ApiError, isRegistryError, type AuthHooks, type Principal, type RequestInfo } from '@wharf/sdk';
import type { Logger } from 'pino';
import type { KernelAuth } from '../../auth/kernel-auth.js';
import type { TokenAuth } from '../../auth/token-auth.js';
import { TokenError } from '../../auth/token-service.js';

/**
 * Who calls the management API:
 * - no `Authorization`: the anonymous principal, or whatever `auth.authenticate` makes of an
 *   anonymous caller (from `RequestInfo.header`, e.g. a session cookie), if `auth.active` (asked
 *   fresh) does not refuse it;
 * - `Basic`: through the kernel's authenticator, like the token endpoint (credential cache,
 *   failed-login slowdown, failures logged without the password);
 * - `Bearer`: with token auth on, a token of our token service (its principal, if `auth.active`
 *   does not refuse it, enriched by `auth.principal`); without it, whatever `auth.authenticate`
 *   makes of the bearer credentials.
 * Credentials that do not check out are a 401, never a downgrade to anonymous.
 */

export interface ApiAuthDeps {
  readonly hooks: AuthHooks;
  readonly auth: KernelAuth;
  readonly token: TokenAuth | undefined;
}

const invalid = (message = 'invalid credentials') => new ApiError('UNAUTHORIZED', message);

function parseBasic(value: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  return sep < 0 ? undefined : { username: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
}

export async function authenticateApiRequest(header: string, info: RequestInfo, deps: ApiAuthDeps, log: Logger): Promise<Principal> {
  const { authenticator } = deps.auth;
  if (header === '') {
    const outcome = await authenticator.authenticate({ kind: 'anonymous' }, info);
    if (!outcome.ok) throw invalid();
    const { principal } = outcome;
    // A tap vouched for a caller without Authorization (the web UI's session cookie): like a
    // token's principal, it must still be active, asked fresh so a disabled account stops at once.
    if (principal.kind !== 'anonymous' && !(await deps.auth.active.isActive(principal, { fresh: true }))) {
      log.info({ user: principal.subject, provider: principal.provider }, 'session of an inactive account refused');
      throw invalid('session expired or account disabled');
    }
    return principal;
  }
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  switch (scheme.toLowerCase()) {
    case 'basic': {
      const basic = parseBasic(value);
      if (!basic) throw invalid('malformed Basic credentials');
      // With no provider every password would "work" as anonymous; refuse instead.
      if (!deps.hooks.authenticate.isUsed()) throw invalid('no authentication provider is configured');
      const outcome = await authenticator.authenticate({ kind: 'basic', ...basic }, info);
      if (!outcome.ok) throw invalid('invalid username or password');
      return outcome.principal;
    }
    case 'bearer':
      return deps.token ? ourBearer(value, info, deps, deps.token, log) : foreignBearer(value, info, deps);
    default:
      throw invalid('unsupported authorization scheme; use Basic or Bearer');
  }
}

async function ourBearer(value: string, info: RequestInfo, deps: ApiAuthDeps, token: TokenAuth, log: Logger): Promise<Principal> {
  let principal: Principal;
  try {
    principal = (await token.tokens.verifyAccessToken(value)).principal;
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    log.info({ reason: err.reason }, 'bearer token refused');
    throw invalid('invalid or expired token');
  }
  if (principal.kind === 'anonymous') return principal;
  if (!(await deps.auth.active.isActive(principal))) {
    log.info({ user: principal.subject, provider: principal.provider }, 'bearer token of an inactive account refused');
    throw invalid('invalid or expired token');
  }
  // Tokens carry no groups; management decisions (project membership) may need them.
  return deps.auth.authenticator.enrich(principal, info);
}

async function foreignBearer(value: string, info: RequestInfo, deps: ApiAuthDeps): Promise<Principal> {
  if (!deps.hooks.authenticate.isUsed()) throw invalid('no authentication provider is configured');
  let principal: Principal | undefined;
  try {
    principal = await deps.hooks.authenticate.promise({ kind: 'bearer', token: value }, info);
  } catch (err) {
    if (isRegistryError(err) && err.code === 'UNAUTHORIZED') throw invalid('invalid or expired token');
    throw err;
  }
  if (!principal) throw invalid('invalid or expired token');
  return deps.auth.authenticator.enrich(principal, info);
}
