import type { Middleware } from 'koa';
import type { HttpHooks } from '@wharf/sdk';
import type { Logger } from 'pino';
import { observe } from '../../hooks/index.js';
import { parseDecimal } from '../integers.js';

/**
 * First in the chain when anyone tapped `http.requestStarted` or `http.requestFinished`: reports
 * each request's start, and its end once the response is over (the body of a blob GET streams
 * after the middleware chain returned, so the end is the response's `close`). The route is the
 * template the router that served the request recorded in `ctx.state.route` (the `/v2/` and
 * `/api/v1` routers match by hand), else @koa/router's matched layer path: never the raw path.
 */

export interface RouteState {
  /** The route template that served the request, set by the router that matched it. */
  route?: string;
}

function contentLength(value: string | number | readonly string[] | undefined): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? parseDecimal(value) : undefined;
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export function observeRequests(hooks: HttpHooks, logger: Logger): Middleware<RouteState> {
  return async function observeRequestsMiddleware(ctx, next) {
    const started = performance.now();
    const method = ctx.method;
    observe(hooks.requestStarted, () => ({ method }), logger);
    ctx.res.once('close', () => {
      const { res, req } = ctx;
      const matched = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
      observe(
        hooks.requestFinished,
        () => ({
          method,
          route: ctx.state.route ?? (typeof matched === 'string' ? matched : undefined),
          status: res.headersSent ? res.statusCode : 0,
          durationMs: performance.now() - started,
          requestBytes: contentLength(req.headers['content-length']),
          responseBytes: contentLength(res.getHeader('content-length')),
        }),
        logger,
      );
    });
    await next();
  };
}
