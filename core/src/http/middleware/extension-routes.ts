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

/** The `HttpContext` a plugin handler sees: reads and writes go to the koa context. */
export function httpView(ctx: Ctx): HttpContext {
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
  };
}

function scoped(router: Router<ExtState>, prefix: string): ScopedRouter {
  const adapt = (handlers: RouteHandler[]) => handlers.map((h) => (ctx: Ctx, next: () => Promise<void>) => h(httpView(ctx), next));
  return Object.freeze({
    prefix,
    get: (path: string, ...h: RouteHandler[]) => void router.get(path, ...adapt(h)),
    head: (path: string, ...h: RouteHandler[]) => void router.head(path, ...adapt(h)),
    post: (path: string, ...h: RouteHandler[]) => void router.post(path, ...adapt(h)),
    put: (path: string, ...h: RouteHandler[]) => void router.put(path, ...adapt(h)),
    patch: (path: string, ...h: RouteHandler[]) => void router.patch(path, ...adapt(h)),
    delete: (path: string, ...h: RouteHandler[]) => void router.delete(path, ...adapt(h)),
  });
}

/** A plugin's declared routes: its id (a kebab-case path segment) and its mount function. */
export interface DeclaredRoutes {
  readonly plugin: string;
  readonly mount: (router: ScopedRouter) => void;
}

/** Calls each plugin's `mount` with its own scoped router; returns the middleware to mount. */
export function extensionRoutes(declared: readonly DeclaredRoutes[]): Middleware[] {
  const out: Middleware[] = [];
  for (const { plugin, mount } of declared) {
    const prefix = `/_ext/${plugin}`;
    const router = new Router<ExtState>({ prefix });
    try {
      mount(scoped(router, prefix));
    } catch (err) {
      throw new KernelError('REG_ERR_PLUGIN_INIT', `plugin "${plugin}": mounting its routes failed: ${(err as Error)?.message ?? String(err)}`, { plugin, cause: err });
    }
    out.push(router.routes() as unknown as Middleware, router.allowedMethods() as unknown as Middleware);
  }
  return out;
}
