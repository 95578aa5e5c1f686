import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpContext } from '@wharf/sdk';
import type { Registry } from 'prom-client';

/**
 * Who may read `/metrics` on the main listener: the configured scrape token (compared as
 * SHA-256 digests in constant time; only the digest is kept), else a system administrator
 * through the kernel's own authentication (Basic, or a Bearer token of the token service).
 * Anyone else gets a 401 (no or bad credentials) or a 403 (a valid non-admin).
 */

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export type ScrapeDecision = 'allow' | 'unauthenticated' | 'forbidden';

export function scrapeAccess(scrapeToken: string | undefined) {
  const tokenDigest = scrapeToken === undefined ? undefined : sha256(scrapeToken);
  return async (ctx: HttpContext): Promise<ScrapeDecision> => {
    const header = ctx.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (tokenDigest && bearer !== undefined && timingSafeEqual(sha256(bearer), tokenDigest)) return 'allow';
    const principal = await ctx.authenticate();
    if (!principal || principal.kind === 'anonymous') return 'unauthenticated';
    return principal.admin ? 'allow' : 'forbidden';
  };
}

/** The `/metrics` handler of the main listener. */
export function metricsRoute(registry: Registry, may: (ctx: HttpContext) => Promise<ScrapeDecision>) {
  return async (ctx: HttpContext): Promise<void> => {
    ctx.set('Cache-Control', 'no-store');
    const decision = await may(ctx);
    if (decision !== 'allow') {
      ctx.status = decision === 'unauthenticated' ? 401 : 403;
      if (decision === 'unauthenticated') ctx.set('WWW-Authenticate', 'Basic realm="wharf metrics"');
      ctx.set('Content-Type', 'text/plain; charset=utf-8');
      ctx.body = decision === 'unauthenticated' ? 'authentication required: a system administrator or the scrape token\n' : 'only system administrators may read metrics\n';
      return;
    }
    ctx.set('Content-Type', registry.contentType);
    ctx.body = await registry.metrics();
  };
}

/** A plain HTTP listener serving `/metrics` without authentication (Harbor's :9090). */
export async function listenPlain(registry: Registry, listen: string): Promise<{ url: string; close(): Promise<void> }> {
  const { host, port } = parseListen(listen);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.statusCode = path === '/metrics' ? 405 : 404;
      res.end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.setHeader('Content-Type', registry.contentType);
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`metrics: cannot listen on ${listen}: ${err.message}`, { cause: err })));
    server.listen(port, host || undefined, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `host:port`, `:port` or `[v6]:port`. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) throw new TypeError(`metrics.listen must be host:port, got "${listen}"`);
  return { host: m[1] ?? m[2] ?? '', port };
}
