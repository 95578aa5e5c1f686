import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Principal } from '@wharf/sdk';
import { parseDecimal } from '../integers.js';

/**
 * One line per request at info, `msg: "request"`, with the fields operators grep for:
 * `method`, `path`, `query` (only when there is one; secret-looking values masked), `status`,
 * `bytes` (body bytes sent), `durationMs`, `user` (the principal's subject, `anonymous` when
 * none), `clientIp` (koa's `ctx.ip`: the socket address, or `X-Forwarded-For` with
 * `server.trustProxy`), `userAgent`, plus the `reqId` binding of every request line. Written
 * when the response finished (or the client went away: `aborted: true`), so streamed bodies
 * count.
 */

const SECRET_QUERY = /token|password|passwd|secret|signature|sig|key|credential|auth/i;

/** The query string with secret-looking parameter values masked; `undefined` when empty. */
export function safeQuery(querystring: string): string | undefined {
  if (querystring === '') return undefined;
  const parts: string[] = [];
  for (const [k, v] of new URLSearchParams(querystring)) parts.push(`${encodeURIComponent(k)}=${SECRET_QUERY.test(k) ? '[redacted]' : encodeURIComponent(v)}`);
  return parts.join('&');
}

export function accessLog(): Middleware<{ log: Logger; principal?: Principal }> {
  return async function accessLogMiddleware(ctx, next) {
    const start = process.hrtime.bigint();
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      const res = ctx.res;
      const length = parseDecimal(String(res.getHeader('content-length') ?? ''));
      const q = ctx.originalUrl.indexOf('?');
      const query = q < 0 ? undefined : safeQuery(ctx.originalUrl.slice(q + 1));
      const fields = {
        method: ctx.method,
        path: q < 0 ? ctx.originalUrl : ctx.originalUrl.slice(0, q),
        ...(query === undefined ? {} : { query }),
        status: res.statusCode,
        bytes: ctx.method === 'HEAD' || length === undefined ? 0 : length,
        durationMs: Number((process.hrtime.bigint() - start) / 10_000n) / 100,
        user: ctx.state.principal?.subject ?? 'anonymous',
        clientIp: ctx.ip,
        userAgent: ctx.get('user-agent') || undefined,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      ctx.state.log.info(fields, 'request');
    };
    ctx.res.once('finish', write);
    ctx.res.once('close', write);
    await next();
  };
}
