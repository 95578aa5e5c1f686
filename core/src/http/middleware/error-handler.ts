import type { Context, Middleware } from 'koa';
import type { Logger } from 'pino';
import { pluginOfError } from '../../hooks/index.js';
import { ociErrorResponse } from './oci-error.js';
import { applySecurityHeaders } from './security-headers.js';

/**
 * Turns errors into OCI error bodies. Internal errors are logged with their stack and, when a
 * hook tap threw, the plugin id; the client sees `UNKNOWN` without internals.
 */

function logError(log: Logger, err: unknown, internal: boolean): void {
  const culprit = pluginOfError(err);
  if (internal) log.error({ err, ...(culprit ? { plugin: culprit.plugin, hook: culprit.hook } : {}) }, 'request failed');
  else log.debug({ err }, 'request refused');
}

function send(ctx: Context, err: unknown, log: Logger): void {
  const res = ociErrorResponse(err);
  logError(log, err, res.internal);
  const requestId = ctx.response.get('X-Request-Id');
  for (const name of ctx.res.getHeaderNames()) ctx.res.removeHeader(name);
  if (requestId) ctx.set('X-Request-Id', String(requestId));
  ctx.set('Docker-Distribution-API-Version', 'registry/2.0');
  for (const [k, v] of Object.entries(res.headers)) ctx.set(k, v);
  ctx.status = res.status;
  ctx.type = 'application/json';
  // koa sends no body for HEAD but keeps the Content-Length of this one.
  ctx.body = res.body;
}

export function errorHandler(fallback: Logger): Middleware<{ log?: Logger }> {
  return async function errorMiddleware(ctx, next) {
    try {
      await next();
    } catch (err) {
      const log = ctx.state.log ?? fallback;
      if (ctx.headerSent || !ctx.writable) {
        logError(log, err, true);
        ctx.res.destroy();
        return;
      }
      send(ctx as unknown as Context, err, log);
    }
  };
}

/**
 * Replacement for koa's `ctx.onerror`, which handles errors of streamed bodies after the
 * middleware returned: same OCI body, or a destroyed socket when headers are already out.
 */
export function ociOnError(fallback: Logger) {
  return function onerror(this: Context, err: unknown): void {
    if (err === null || err === undefined) return;
    const log = (this.state as { log?: Logger }).log ?? fallback;
    if (this.headerSent || !this.writable) {
      // Client aborts are normal for large blobs; only other failures are the server's problem.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') log.debug({ err }, 'response aborted');
      else log.error({ err }, 'response stream failed');
      this.res.destroy();
      return;
    }
    const res = ociErrorResponse(err);
    logError(log, err, res.internal);
    const requestId = this.res.getHeader('X-Request-Id');
    for (const name of this.res.getHeaderNames()) this.res.removeHeader(name);
    if (requestId !== undefined) this.res.setHeader('X-Request-Id', requestId);
    for (const [k, v] of Object.entries(res.headers)) this.res.setHeader(k, v);
    applySecurityHeaders(this.res);
    this.res.statusCode = res.status;
    this.res.setHeader('Content-Type', 'application/json');
    this.res.setHeader('Content-Length', Buffer.byteLength(res.body));
    this.res.end(this.method === 'HEAD' ? undefined : res.body);
  };
}
