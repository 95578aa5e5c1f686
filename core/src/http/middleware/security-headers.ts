import type { Middleware } from 'koa';

/**
 * The usual browser-facing protections on every answer: no MIME sniffing (a blob or a JSON
 * error must never run as a script), no framing (clickjacking), no referrer leaks, and a
 * Content-Security-Policy that allows nothing, which fits JSON and blob answers. They matter once
 * a web UI is served from the same origin. A route that serves pages (a UI extension) sets its
 * own policy; these are only filled in where a header is not set already.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Referrer-Policy': 'no-referrer',
});

/** Sets {@link SECURITY_HEADERS} that are missing on `res`. */
export function applySecurityHeaders(res: { hasHeader(name: string): boolean; setHeader(name: string, value: string): unknown }): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!res.hasHeader(name)) res.setHeader(name, value);
}

/** Outside the error middleware, so error answers (which start from clean headers) get them too. */
export function securityHeaders(): Middleware {
  return async function securityHeadersMiddleware(ctx, next) {
    try {
      await next();
    } finally {
      if (!ctx.headerSent) applySecurityHeaders(ctx.res);
    }
  };
}
