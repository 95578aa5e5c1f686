import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { parseDecimal } from '../integers.js';

/**
 * One line per request at info: method, url (secret query values masked), status, ms, bytes,
 * written when the response finished (or the client went away), so streamed bodies count.
 */

const SECRET_QUERY = /token|password|passwd|secret|signature|sig|key|credential|auth/i;

export function safeUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const parts: string[] = [];
  for (const [k, v] of params) parts.push(`${encodeURIComponent(k)}=${SECRET_QUERY.test(k) ? '[redacted]' : encodeURIComponent(v)}`);
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

export function accessLog(): Middleware<{ log: Logger }> {
  return async function accessLogMiddleware(ctx, next) {
    const start = process.hrtime.bigint();
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      const res = ctx.res;
      const length = parseDecimal(String(res.getHeader('content-length') ?? ''));
      const fields = {
        method: ctx.method,
        url: safeUrl(ctx.originalUrl),
        status: res.statusCode,
        ms: Number((process.hrtime.bigint() - start) / 10_000n) / 100,
        bytes: ctx.method === 'HEAD' || length === undefined ? 0 : length,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      ctx.state.log.info(fields, 'request');
    };
    ctx.res.once('finish', write);
    ctx.res.once('close', write);
    await next();
  };
}
