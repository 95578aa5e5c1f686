import { Readable } from 'node:stream';
import type { Context, Middleware } from 'koa';
import { ApiError, isApiStream, type AccessRequest, type ApiStreamBody, type ApiPageRequest, type ApiRequest, type KernelHooks, type Principal, type RequestInfo } from '@wharf/sdk';
import type { Logger } from 'pino';
import { mayManage } from '../../auth/grant.js';
import type { KernelAuth } from '../../auth/kernel-auth.js';
import type { TokenAuth } from '../../auth/token-auth.js';
import { pluginOfError } from '../../hooks/index.js';
import { authenticateApiRequest } from './api-auth.js';
import type { ApiRoute } from './api-route.js';
import { envelopeOf } from './envelope.js';
import { readJsonBody } from './json-body.js';
import { linkHeader, NO_PAGE, PAGINATION_KEYS, parsePageRequest, SORT_KEY } from './pagination.js';

/**
 * The management API under `/api/v1`: finds the operation (404 `NOT_FOUND` for an unknown path,
 * 405 `METHOD_NOT_ALLOWED` with `Allow` for a known path), authenticates, refuses anonymous
 * callers unless the operation allows them, validates path, query and body, runs the handler
 * and writes JSON. Every refusal and failure is the JSON error envelope. Paths are matched by
 * hand: the routes are few, literal segments must beat parameters whatever the registration
 * order, and 404/405 must be answered in the API's terms, not the OCI error body.
 */

export const API_PREFIX = '/api/v1';

export interface ApiRouterDeps {
  readonly routes: readonly ApiRoute[];
  readonly hooks: KernelHooks;
  readonly auth: KernelAuth;
  readonly token: TokenAuth | undefined;
  readonly logger: Logger;
  /** The public URL (final only once the server listens): names the Basic realm. */
  readonly publicUrl: () => string;
  /** The OpenAPI document, serialised. */
  readonly openapi: () => string;
}

interface ApiState {
  requestId: string;
  log?: Logger;
  principal: Principal;
  /** The matched operation's route template, for the request observation hooks. */
  route?: string;
}

type ApiContext = Context & { state: ApiState };

const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'x-total-count', 'link', 'x-request-id']);

function requestInfo(ctx: ApiContext): RequestInfo {
  return { requestId: ctx.state.requestId, ip: ctx.ip, method: ctx.method, path: ctx.path, userAgent: ctx.get('user-agent') || undefined, header: (name) => ctx.get(name) || undefined };
}

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ApiError('BAD_REQUEST', `invalid path parameter: "${raw.slice(0, 50)}" is not valid percent-encoding`);
  }
}

/** The route for a path and method; 404 or 405 when there is none. */
export function matchRoute(routes: readonly ApiRoute[], method: string, path: string): { route: ApiRoute; params: Record<string, string> } {
  const wanted = method === 'HEAD' ? 'GET' : method;
  const allowed = new Set<string>();
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.operation.method !== wanted) {
      allowed.add(route.operation.method);
      continue;
    }
    const params: Record<string, string> = {};
    route.paramNames.forEach((name, i) => (params[name] = decodeParam(m[i + 1] as string)));
    return { route, params };
  }
  if (allowed.size === 0) throw new ApiError('NOT_FOUND', `no such API endpoint: ${path.slice(0, 200)}`);
  throw new MethodNotAllowed(method, [...allowed]);
}

/** A 405 that knows the `Allow` header to send. */
class MethodNotAllowed extends ApiError {
  readonly allow: string;
  constructor(method: string, allowed: readonly string[]) {
    super('METHOD_NOT_ALLOWED', `${method.slice(0, 20)} is not allowed here; use ${allowed.join(', ')}`);
    this.allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].join(', ');
  }
}

/** Query parameters as a plain object (koa's has no prototype), without the kernel's own on lists. */
function queryOf(ctx: ApiContext, list: boolean, sorts: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(ctx.query)) {
    if (value === undefined || (list && PAGINATION_KEYS.includes(key)) || (sorts && key === SORT_KEY)) continue;
    out[key] = value;
  }
  return out;
}

function describeAccess(access: AccessRequest): string {
  const r = access.resource;
  switch (r.type) {
    case 'project':
      return `${access.action} ${r.resource} of project ${r.name}`;
    case 'system':
      return `${access.action} ${r.name}`;
    default:
      return `${access.action} ${r.type} ${r.name}`;
  }
}

export function createApiRouter(deps: ApiRouterDeps): Middleware {
  // A web page's own script says so with X-Requested-With and handles a 401 itself (the web UI
  // sends it back to its login form). A Basic challenge would make the browser hold the request
  // and pop up its own login box over the page instead.
  const challenge = (ctx: ApiContext) => (ctx.get('x-requested-with') ? undefined : `Basic realm="${hostOf(deps.publicUrl())}"`);

  async function serve(ctx: ApiContext, log: Logger): Promise<void> {
    const sub = ctx.path.slice(API_PREFIX.length).replace(/(.)\/$/, '$1') || '/';
    if (sub === '/openapi.json') {
      ctx.state.route = `${API_PREFIX}/openapi.json`;
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') throw new MethodNotAllowed(ctx.method, ['GET']);
      ctx.status = 200;
      ctx.type = 'application/json';
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = deps.openapi();
      return;
    }
    const { route, params } = matchRoute(deps.routes, ctx.method, sub);
    const { operation } = route;
    ctx.state.route = `${API_PREFIX}${operation.path}`;
    const info = requestInfo(ctx);
    const principal = await authenticateApiRequest(ctx.get('authorization'), info, { hooks: deps.hooks.auth, auth: deps.auth, token: deps.token }, log);
    ctx.state.principal = principal;
    if (principal.kind === 'anonymous' && !operation.anonymous) throw new ApiError('UNAUTHORIZED', 'authentication required');

    const validatedParams = route.validateParams ? route.validateParams(params) : params;
    const sorts = operation.list ? operation.sorts : undefined;
    const query = queryOf(ctx, operation.list === true, sorts !== undefined);
    const validatedQuery = route.validateQuery ? route.validateQuery(query) : {};
    const page: ApiPageRequest = operation.list ? parsePageRequest(ctx.query, operation.filters ?? [], sorts) : NO_PAGE;
    let body: unknown;
    if (route.validateBody) {
      body = await readJsonBody(ctx);
      if (body === undefined) throw new ApiError('BAD_REQUEST', 'invalid body: a JSON body is required');
      route.validateBody(body);
    }

    const may = (access: AccessRequest) => mayManage(deps.hooks.rbac, principal, access);
    const request: ApiRequest = Object.freeze({
      principal,
      params: validatedParams,
      query: validatedQuery,
      body,
      page,
      requestId: ctx.state.requestId,
      request: requestInfo(ctx),
      logger: route.owner === 'kernel' ? log : log.child({ plugin: route.owner }),
      may,
      async authorize(access: AccessRequest) {
        if (await may(access)) return;
        if (principal.kind === 'anonymous') throw new ApiError('UNAUTHORIZED', 'authentication required');
        throw new ApiError('FORBIDDEN', `not allowed to ${describeAccess(access)}`);
      },
      setHeader(name: string, value: string) {
        if (RESERVED_HEADERS.has(name.toLowerCase())) throw new TypeError(`the kernel sets ${name} itself`);
        ctx.set(name, value);
      },
    });

    // Errors a handler throws are the owning plugin's: the log says which.
    const run = <T>(fn: () => Promise<T>): Promise<T> =>
      fn().catch((err: unknown) => {
        if (typeof err === 'object' && err !== null) handlerOwners.set(err, route.owner);
        throw err;
      });
    if ('produces' in operation) {
      const result = await run(() => operation.handler(request as never));
      if (!isApiStream(result)) throw new Error(`api operation "${operation.operationId}" must answer with apiStream()`);
      await sendStream(ctx, result, log, route.owner, run);
      return;
    }
    if (operation.list) {
      const result = await run(() => operation.handler(request as never));
      ctx.set('X-Total-Count', String(result.total));
      const link = linkHeader(ctx.path, ctx.querystring, page, result.total);
      if (link) ctx.set('Link', link);
      ctx.status = 200;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(result.items);
      return;
    }
    const result = await run(() => operation.handler(request as never));
    if (operation.response && result !== undefined) {
      ctx.status = operation.status ?? 200;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(result);
      return;
    }
    ctx.status = operation.response ? 204 : (operation.status ?? 204);
    // Koa turns a null body into a 204: an empty string keeps a 201 or 202 as declared.
    ctx.body = '';
    ctx.remove('Content-Type');
  }

  return async function apiMiddleware(context, next) {
    const ctx = context as ApiContext;
    if (ctx.path !== API_PREFIX && !ctx.path.startsWith(`${API_PREFIX}/`)) return next();
    const log = ctx.state.log ?? deps.logger;
    ctx.set('Cache-Control', 'no-store');
    try {
      await serve(ctx, log);
    } catch (err) {
      sendError(ctx, err, log, challenge(ctx));
    }
  };
}

const handlerOwners = new WeakMap<object, string>();

/**
 * Streams an export. The first chunk is awaited before the status goes out, so a failure before
 * any byte is an envelope; a later failure is logged and cuts the connection, so a client never
 * takes a truncated answer for a whole one. A client that goes away ends the iterator (its
 * `finally` blocks run), releasing whatever it held.
 */
async function sendStream(ctx: ApiContext, body: ApiStreamBody, log: Logger, owner: string, run: <T>(fn: () => Promise<T>) => Promise<T>): Promise<void> {
  const iterator = body.chunks[Symbol.asyncIterator]();
  const first = await run(() => iterator.next());
  async function* chunks(): AsyncGenerator<string | Uint8Array> {
    try {
      if (first.done) return;
      yield first.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  const stream = Readable.from(chunks(), { objectMode: false });
  stream.once('error', (err) => {
    log.error({ err, ...(owner === 'kernel' ? {} : { plugin: owner }) }, 'api stream failed after it started');
    ctx.res.destroy();
  });
  ctx.status = 200;
  ctx.type = body.contentType;
  if (body.filename) ctx.set('Content-Disposition', `attachment; filename="${body.filename}"`);
  ctx.body = stream;
}

function sendError(ctx: ApiContext, err: unknown, log: Logger, challenge: string | undefined): void {
  const res = envelopeOf(err, ctx.state.requestId, challenge);
  if (res.internal) {
    const culprit = pluginOfError(err);
    const owner = typeof err === 'object' && err !== null ? handlerOwners.get(err) : undefined;
    const plugin = culprit?.plugin ?? (owner === 'kernel' ? undefined : owner);
    log.error({ err, ...(plugin ? { plugin } : {}), ...(culprit ? { hook: culprit.hook } : {}) }, 'api request failed');
  } else {
    log.debug({ code: res.code, message: (err as Error)?.message }, 'api request refused');
  }
  if (ctx.headerSent) {
    ctx.res.destroy();
    return;
  }
  const requestId = ctx.response.get('X-Request-Id');
  for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name);
  if (requestId) ctx.set('X-Request-Id', String(requestId));
  ctx.set('Cache-Control', 'no-store');
  for (const [k, v] of Object.entries(res.headers)) ctx.set(k, v);
  if (err instanceof MethodNotAllowed) ctx.set('Allow', err.allow);
  ctx.status = res.status;
  ctx.type = 'application/json';
  ctx.body = res.body;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'wharf';
  }
}
