import Router, { type RouterContext } from '@koa/router';
import type { Middleware } from 'koa';
import { KernelError, type HttpContext, type Principal, type RouteHandler, type ScopedRouter } from '@wharf/sdk';

/**
 * Extension routes: each plugin that declared `ctx.routes(mount)` gets its own router under
 * `/_ext/<pluginId>` and a narrow view of the request (no app, no container), so a plugin cannot
 * reach outside its prefix.
 */

type ExtState = { principal: Principal; requestId: string };
type Ctx = RouterContext<ExtState>;

/** The kernel's authentication of a request's `Authorization` header (the management API's). */
export type AuthenticateRequest = (ctx: Ctx) => Promise<Principal | undefined>;

/** Top-level paths a plugin may not claim: the kernel's own. */
const KERNEL_PATHS = new Set(['/v2', '/api', '/service', '/_ext', '/healthz', '/readyz']);
const TOP_LEVEL = /^\/[a-z0-9][a-z0-9._-]*$/;

/** The `HttpContext` a plugin handler sees: reads and writes go to the koa context. */
export function httpView(ctx: Ctx, authenticate?: AuthenticateRequest): HttpContext {
  return {
    get method() {
      return ctx.method;
    },
    get path() {
      return ctx.path;
    },
    get params() {
      return { ...(ctx.params as Record<string, string>) };
    },
    get query() {
      return ctx.query;
    },
    get headers() {
      return ctx.headers;
    },
    get status() {
      return ctx.status;
    },
    set status(value: number) {
      ctx.status = value;
    },
    get body() {
      return ctx.body;
    },
    set body(value: unknown) {
      ctx.body = value;
    },
    set(field: string, value: string) {
      ctx.set(field, value);
    },
    get state() {
      return { principal: ctx.state.principal, requestId: ctx.state.requestId };
    },
    async authenticate() {
      if (!authenticate) return undefined;
      const principal = await authenticate(ctx);
      if (principal) ctx.state.principal = principal;
      return principal;
    },
  };
}

/** Who claimed which top-level path, across plugins. */
type TopLevelClaims = Map<string, string>;

/** The one plugin answering unmatched GETs (a single-page app), if any. */
interface FallbackClaim {
  plugin?: string;
  handlers?: ((ctx: Ctx, next: () => Promise<void>) => unknown)[];
}

function scoped(router: Router<ExtState>, prefix: string, plugin: string, top: Router<ExtState>, claims: TopLevelClaims, fallback: FallbackClaim, authenticate: AuthenticateRequest | undefined): ScopedRouter {
  const adapt = (handlers: RouteHandler[]) => handlers.map((h) => (ctx: Ctx, next: () => Promise<void>) => h(httpView(ctx, authenticate), next));
  return Object.freeze({
    prefix,
    get: (path: string, ...h: RouteHandler[]) => void router.get(path, ...adapt(h)),
    head: (path: string, ...h: RouteHandler[]) => void router.head(path, ...adapt(h)),
    post: (path: string, ...h: RouteHandler[]) => void router.post(path, ...adapt(h)),
    put: (path: string, ...h: RouteHandler[]) => void router.put(path, ...adapt(h)),
    patch: (path: string, ...h: RouteHandler[]) => void router.patch(path, ...adapt(h)),
    delete: (path: string, ...h: RouteHandler[]) => void router.delete(path, ...adapt(h)),
    getTopLevel(path: string, ...h: RouteHandler[]) {
      if (KERNEL_PATHS.has(path)) throw new TypeError(`top-level path ${path} belongs to the kernel`);
      if (typeof path !== 'string' || !TOP_LEVEL.test(path)) throw new TypeError(`top-level path "${String(path)}" must be one literal segment, like /metrics`);
      const owner = claims.get(path);
      if (owner !== undefined) throw new TypeError(`top-level path ${path} is already served by plugin "${owner}"`);
      claims.set(path, plugin);
      top.get(path, ...adapt(h));
    },
    getFallback(...h: RouteHandler[]) {
      if (fallback.plugin !== undefined) throw new TypeError(`the fallback route is already served by plugin "${fallback.plugin}"`);
      fallback.plugin = plugin;
      fallback.handlers = adapt(h);
    },
  });
}

/** A plugin's declared routes: its id (a kebab-case path segment) and its mount function. */
export interface DeclaredRoutes {
  readonly plugin: string;
  readonly mount: (router: ScopedRouter) => void;
}

/**
 * Calls each plugin's `mount` with its own scoped router; returns the middleware to mount (the
 * top-level routes plugins claimed come last). `authenticate` backs `HttpContext.authenticate`.
 */
export function extensionRoutes(declared: readonly DeclaredRoutes[], authenticate?: AuthenticateRequest): Middleware[] {
  const out: Middleware[] = [];
  const top = new Router<ExtState>();
  const claims: TopLevelClaims = new Map();
  const fallback: FallbackClaim = {};
  for (const { plugin, mount } of declared) {
    const prefix = `/_ext/${plugin}`;
    const router = new Router<ExtState>({ prefix });
    try {
      mount(scoped(router, prefix, plugin, top, claims, fallback, authenticate));
    } catch (err) {
      throw new KernelError('REG_ERR_PLUGIN_INIT', `plugin "${plugin}": mounting its routes failed: ${(err as Error)?.message ?? String(err)}`, { plugin, cause: err });
    }
    out.push(router.routes() as unknown as Middleware, router.allowedMethods() as unknown as Middleware);
  }
  if (claims.size > 0) out.push(top.routes() as unknown as Middleware, top.allowedMethods() as unknown as Middleware);
  if (fallback.handlers) out.push(fallbackRoute(fallback.handlers, claims));
  return out;
}

/** The first path segment, `/x` of `/x/y`. */
const firstSegment = (path: string) => '/' + (path.split('/')[1] ?? '');

/**
 * Runs the fallback handlers for a GET or HEAD nobody answered, never under the kernel's prefixes
 * or a plugin's top-level path (a typo under `/v2/` stays the registry's 404, not a page).
 */
function fallbackRoute(handlers: NonNullable<FallbackClaim['handlers']>, claims: TopLevelClaims): Middleware {
  return async function fallbackMiddleware(ctx, next) {
    const segment = firstSegment(ctx.path);
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || KERNEL_PATHS.has(segment) || claims.has(segment) || ctx.body !== undefined || ctx.status !== 404) return next();
    let i = 0;
    const step = async (): Promise<void> => {
      const h = handlers[i++];
      if (h) await h(ctx as unknown as Ctx, step);
      else await next();
    };
    await step();
  };
}
