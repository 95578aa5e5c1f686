import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from './principal.js';

/**
 * What an extension route sees of a request: a narrow, koa-compatible view. Plugins never get
 * the application or the container, only this.
 * @since 0.1.0
 */
export interface HttpContext {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  readonly headers: IncomingHttpHeaders;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
  readonly state: { readonly principal: Principal; readonly requestId: string };
  /**
   * Checks the request's `Authorization` header with the kernel's own authentication, as the
   * management API does: `Basic` through the auth providers (credential cache, failed-login
   * slowdown), `Bearer` a token of the token service. Resolves the principal (the anonymous one
   * without a header), or `undefined` when the credentials do not check out. Extension routes
   * are not authenticated unless they ask: `state.principal` stays anonymous.
   * @since 0.2.0
   */
  authenticate(): Promise<Principal | undefined>;
}

/** A route handler for an extension route. */
export type RouteHandler = (ctx: HttpContext, next: () => Promise<void>) => Promise<void> | void;

/**
 * A router scoped to `/_ext/<pluginId>`: everything a plugin mounts lands under its own prefix.
 * @since 0.1.0
 */
export interface ScopedRouter {
  /** The path prefix every route of this router is mounted under. */
  readonly prefix: string;
  get(path: string, ...handlers: RouteHandler[]): void;
  head(path: string, ...handlers: RouteHandler[]): void;
  post(path: string, ...handlers: RouteHandler[]): void;
  put(path: string, ...handlers: RouteHandler[]): void;
  patch(path: string, ...handlers: RouteHandler[]): void;
  delete(path: string, ...handlers: RouteHandler[]): void;
  /**
   * A GET (and HEAD) route at a top-level path outside the prefix, for the few well-known paths
   * tools expect at the root (Prometheus scrapes `/metrics`). The path must be one literal
   * segment (`/metrics`) and not one of the kernel's (`/v2`, `/api`, `/service`, `/_ext`,
   * `/healthz`, `/readyz`); two plugins may not claim the same path. A violation fails the start
   * of the HTTP server naming the plugin.
   * @since 0.2.0
   */
  getTopLevel(path: string, ...handlers: RouteHandler[]): void;
  /**
   * A GET (and HEAD) handler for every path no route answered, outside the kernel's prefixes
   * (`/v2`, `/api`, `/service`, `/_ext`, `/healthz`, `/readyz`) and the top-level paths plugins
   * claimed: a single-page web app's client routes (`/`, `/projects/x`). One plugin at most; a
   * second claim fails the start of the HTTP server naming both plugins.
   * @since 0.2.0
   */
  getFallback(...handlers: RouteHandler[]): void;
}
