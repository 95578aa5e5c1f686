import { asFunction, asValue, type AwilixContainer } from 'awilix';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Principal } from '@wharf/sdk';

/**
 * One container scope per request. The scope holds `requestId`, `principal` and `requestLog` as
 * values, so scoped services can depend on who is asking; it is disposed when the request ends
 * (scoped disposers run), also when the handler threw.
 */

export interface ScopeState {
  requestId: string;
  principal: Principal;
  log: Logger;
  container?: AwilixContainer;
}

export function scopePerRequest(container: AwilixContainer): Middleware<ScopeState> {
  return async function scopeMiddleware(ctx, next) {
    const scope = container.createScope();
    // A getter keeps `principal` current if auth middleware replaces it after this point.
    scope.register({
      requestId: asValue(ctx.state.requestId),
      requestLog: asValue(ctx.state.log),
    });
    scope.register('principal', asFunction(() => ctx.state.principal).transient());
    ctx.state.container = scope;
    try {
      await next();
    } finally {
      // Runs before koa streams the body: scoped services must not own the response stream.
      await scope.dispose().catch((err: unknown) => ctx.state.log.warn({ err }, 'request scope dispose failed'));
    }
  };
}
