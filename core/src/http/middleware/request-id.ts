import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { ANONYMOUS, type Principal } from '@wharf/sdk';
import { withLogContext } from '../../logging/log-context.js';

/**
 * First in the chain: a request id (the client's `X-Request-Id` when it is a sane token, else a
 * new UUID), echoed in the response; the request's child logger; the anonymous principal
 * (auth may replace it). The rest of the chain runs in a log context with the id, so every line
 * written while serving the request carries `reqId`, whichever logger wrote it.
 */

const SANE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface RequestIdState {
  requestId: string;
  log: Logger;
  principal: Principal;
}

export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && SANE.test(header) ? header : randomUUID();
}

export function requestId(logger: Logger): Middleware<RequestIdState> {
  return async function requestIdMiddleware(ctx, next) {
    const id = requestIdFrom(ctx.get('x-request-id') || undefined);
    ctx.state.requestId = id;
    ctx.state.log = logger.child({ reqId: id });
    ctx.state.principal = ANONYMOUS;
    ctx.set('X-Request-Id', id);
    // Lines written by plugins' own loggers while serving the request carry the id as well.
    await withLogContext({ reqId: id }, next);
  };
}
