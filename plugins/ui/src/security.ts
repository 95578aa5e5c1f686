/**
 * Headers of the UI's pages. The policy allows scripts and styles from our own origin only (no
 * `unsafe-inline`, no `eval`), API calls to our own origin, and no framing; the kernel's default
 * policy (`default-src 'none'`) stays on everything else it serves.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The session cookie's name. `__Host-` (which would pin Secure and Path=/) only works over https. */
export const SESSION_COOKIE = 'wharf_session';
export const SECURE_SESSION_COOKIE = '__Host-wharf_session';
/** The header the page sends the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

/** Paths the UI never answers, even when nothing else did: they stay the registry's and the API's. */
const NOT_OURS = ['/v2', '/api', '/service', '/_ext', '/metrics', '/healthz', '/readyz'];
export function isReservedPath(path: string): boolean {
  return NOT_OURS.some((p) => path === p || path.startsWith(p + '/'));
}

/** The value of cookie `name` in a `Cookie` header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** The `Set-Cookie` value for a session; `maxAgeSeconds` 0 deletes it. */
export function sessionCookie(secure: boolean, value: string, maxAgeSeconds: number): string {
  const name = secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  return [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
}

/** Methods that change nothing: the only ones a cookie may carry without the CSRF header. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
