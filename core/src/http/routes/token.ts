import Router from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { RegistryError, type AuthHooks, type Credentials, type Principal, type RequestInfo } from '@wharf/sdk';
import { observe } from '../../hooks/index.js';
import type { Logger } from 'pino';
import { parseScopes, formatScopes, type ResourceScope } from '../../auth/scope.js';
import type { TokenAuth } from '../../auth/token-auth.js';
import type { AccessDenialRecorder } from '../../events/access-denials.js';
import { TokenError } from '../../auth/token-service.js';

/**
 * The token endpoint of the Docker token auth spec, and the keys to check its tokens:
 * - `GET /service/token?service=&scope=&scope=&offline_token=&client_id=&account=` with Basic
 *   credentials or none (anonymous);
 * - `POST /service/token`, the OAuth2 form: `grant_type=password` (username, password,
 *   `access_type=offline` for a refresh token) or `grant_type=refresh_token`;
 * - `GET /service/jwks` and `/.well-known/jwks.json`: every verification key as a JWK Set.
 * Bad credentials are a 401 (`docker login` relies on it); a partial or empty grant is a 200.
 */

interface TokenState {
  requestId: string;
  log?: Logger;
}
type Ctx = ParameterizedContext<TokenState>;

const MAX_FORM_BYTES = 16 * 1024;

function requestInfo(ctx: Ctx): RequestInfo {
  return { requestId: ctx.state.requestId, ip: ctx.ip, method: ctx.method, path: ctx.path, userAgent: ctx.get('user-agent') || undefined };
}

const all = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const first = (value: string | string[] | undefined): string | undefined => all(value)[0];

function badRequest(message: string): RegistryError {
  return new RegistryError('UNSUPPORTED', message, { status: 400 });
}

function credentialsOf(ctx: Ctx): Credentials {
  const header = ctx.get('authorization');
  if (!header) return { kind: 'anonymous' };
  const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() !== 'basic') throw loginFailed('the token endpoint takes Basic credentials');
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) throw loginFailed('malformed Basic credentials');
  return { kind: 'basic', username: decoded.slice(0, sep), password: decoded.slice(sep + 1) };
}

function loginFailed(message = 'invalid username or password'): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': 'Basic realm="wharf token service"' } });
}

function checkService(token: TokenAuth, service: string | undefined): void {
  if (service !== undefined && service !== token.service) throw badRequest(`unknown service "${service.slice(0, 100)}"`);
}

/** Reads an `application/x-www-form-urlencoded` body, bounded. */
async function readForm(ctx: Ctx): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw badRequest('expected an application/x-www-form-urlencoded body');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new RegistryError('SIZE_INVALID', 'form too large', { status: 413 });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The scopes of one request, bounded by `token.maxScopesPerRequest`: each granted scope becomes
 * a claim of the token, so 600 scopes would make a 49 KB token (and 600 RBAC questions).
 */
function requestedScopes(token: TokenAuth, values: readonly string[]): ResourceScope[] {
  const max = token.settings.maxScopesPerRequest;
  // Counted before parsing too: a huge list is refused without the work of merging it.
  const raw = values.reduce((n, v) => n + v.split(/\s+/).filter(Boolean).length, 0);
  const scopes = raw > max ? undefined : parseScopes(values);
  if (scopes === undefined || scopes.length > max) {
    throw badRequest(`too many scopes in one token request: ${raw} (at most ${max}, token.maxScopesPerRequest)`);
  }
  return scopes;
}

async function authenticateOrFail(token: TokenAuth, credentials: Credentials, info: RequestInfo): Promise<Principal> {
  const outcome = await token.authenticator.authenticate(credentials, info);
  if (!outcome.ok) throw loginFailed();
  return outcome.principal;
}

async function respond(
  ctx: Ctx,
  token: TokenAuth,
  principal: Principal,
  requested: readonly ResourceScope[],
  extra: { refresh: boolean; oauth: boolean },
  hooks: Pick<AuthHooks, 'tokenIssued'> | undefined,
  onDenied?: AccessDenialRecorder,
): Promise<void> {
  const { granted, denied } = await token.grant(principal, requested);
  const issued = await token.tokens.issueAccessToken(principal, granted, denied);
  if (hooks) observe(hooks.tokenIssued, () => ({ kind: 'access' as const, principalKind: principal.kind }), ctx.state.log);
  const body: Record<string, unknown> = {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt.toISOString(),
  };
  if (extra.oauth) body.scope = formatScopes(granted);
  // Not in the spec, ignored by clients; for people reading the answer (curl) and for logs.
  if (denied.length > 0) body.denied = denied.map((d) => ({ type: d.type, name: d.name, action: d.action, reason: d.reason }));
  if (extra.refresh && principal.kind !== 'anonymous') {
    body.refresh_token = await token.tokens.issueRefreshToken(principal);
    if (hooks) observe(hooks.tokenIssued, () => ({ kind: 'refresh' as const, principalKind: principal.kind }), ctx.state.log);
  }
  ctx.state.log?.debug({ subject: principal.subject, requested: formatScopes(requested), granted: formatScopes(granted) }, 'token issued');
  for (const d of denied) {
    ctx.state.log?.info({ subject: principal.subject, kind: principal.kind, repository: d.name, action: d.action, reason: d.reason }, 'access not granted');
    onDenied?.({
      principal: principal.kind === 'anonymous' ? undefined : principal,
      info: { requestId: ctx.state.requestId, ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined },
      operation: `token ${d.type}:${d.action}`,
      resource: d.name,
      status: 200,
      via: 'token',
      reason: d.reason,
    });
  }
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.status = 200;
  ctx.body = body;
}

/** `hooks`: where issued tokens are reported (`auth.tokenIssued`). */
export function createTokenRouter(token: TokenAuth, hooks?: Pick<AuthHooks, 'tokenIssued'>, onDenied?: AccessDenialRecorder): Router<TokenState> {
  const router = new Router<TokenState>();

  router.get('/service/token', async (ctx) => {
    const q = ctx.query;
    checkService(token, first(q.service));
    const scopes = requestedScopes(token, all(q.scope));
    const principal = await authenticateOrFail(token, credentialsOf(ctx), requestInfo(ctx));
    await respond(ctx, token, principal, scopes, { refresh: first(q.offline_token) === 'true', oauth: false }, hooks, onDenied);
  });

  router.post('/service/token', async (ctx) => {
    const form = await readForm(ctx);
    checkService(token, form.get('service') ?? undefined);
    const info = requestInfo(ctx);
    const scopes = requestedScopes(token, form.getAll('scope'));
    const grantType = form.get('grant_type');
    if (grantType === 'password') {
      const username = form.get('username');
      const password = form.get('password');
      if (!username || password === null) throw badRequest('grant_type=password needs username and password');
      const principal = await authenticateOrFail(token, { kind: 'basic', username, password }, info);
      await respond(ctx, token, principal, scopes, { refresh: form.get('access_type') === 'offline', oauth: true }, hooks, onDenied);
      return;
    }
    if (grantType === 'refresh_token') {
      const refresh = form.get('refresh_token');
      if (!refresh) throw badRequest('grant_type=refresh_token needs refresh_token');
      let principal: Principal;
      try {
        principal = await token.tokens.verifyRefreshToken(refresh, token.service);
      } catch (err) {
        if (!(err instanceof TokenError)) throw err;
        ctx.state.log?.warn({ reason: err.reason, ip: info.ip }, 'refresh token refused');
        throw loginFailed('invalid refresh token');
      }
      // The account may have been deleted or disabled, its password or secret changed, since the
      // refresh token was issued: asked fresh, so the change counts at once on every node.
      if (!(await token.active.isActive(principal, { fresh: true }))) {
        ctx.state.log?.warn({ user: principal.subject, provider: principal.provider, ip: info.ip }, 'refresh token of an inactive account refused');
        throw loginFailed('invalid refresh token');
      }
      await respond(ctx, token, await token.authenticator.enrich(principal, info), scopes, { refresh: false, oauth: true }, hooks, onDenied);
      return;
    }
    throw badRequest(`unsupported grant_type "${String(grantType).slice(0, 50)}"`);
  });

  const jwks = (ctx: Ctx) => {
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.type = 'application/jwk-set+json';
    ctx.body = JSON.stringify(token.tokens.jwks);
  };
  router.get('/service/jwks', jwks);
  router.get('/.well-known/jwks.json', jwks);
  return router;
}
