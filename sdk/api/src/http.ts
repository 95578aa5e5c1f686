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
}
