import type { HttpContext, Principal } from '@wharf/sdk';
import { CSRF_HEADER, readCookie, SECURE_SESSION_COOKIE, SESSION_COOKIE, sessionCookie } from './security.js';
import { SessionStore } from './sessions.js';

/**
 * `/_ext/ui/session`: log in (POST with the user's `Authorization: Basic`, checked by the
 * kernel's own authentication: the same providers, failed-login slowdown and login audit as
 * the API), who am I (GET), log out (DELETE, with the CSRF header). Only users get a session;
 * robots use their secret with the API and the registry.
 */

export interface SessionDeps {
  readonly store: SessionStore;
  /** Whether the registry is served over https (the cookie gets `Secure` and the `__Host-` name). */
  readonly secure: () => boolean;
  readonly lifetimeSeconds: number;
}

export interface SessionView {
  readonly user: { readonly name: string; readonly displayName?: string | undefined; readonly admin: boolean; readonly provider: string };
  readonly csrfToken?: string;
  readonly expiresAt: number;
}

function fail(ctx: HttpContext, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Type', 'application/json');
  ctx.body = JSON.stringify({ errors: [{ code, message }] });
}

function answer(ctx: HttpContext, status: number, body: unknown): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Type', 'application/json');
  ctx.body = JSON.stringify(body);
}

const userOf = (p: Principal): SessionView['user'] => ({ name: p.subject, displayName: p.displayName, admin: p.admin, provider: p.provider });

/** The session cookie of a request (either name: a deployment may move to https). */
export function cookieOf(cookieHeader: string | undefined): string | undefined {
  return readCookie(cookieHeader, SECURE_SESSION_COOKIE) ?? readCookie(cookieHeader, SESSION_COOKIE);
}

export function sessionRoutes(deps: SessionDeps) {
  return {
    async login(ctx: HttpContext): Promise<void> {
      if (!/^Basic\s/i.test(ctx.headers.authorization ?? '')) return fail(ctx, 400, 'BAD_REQUEST', 'send the user name and password as Authorization: Basic');
      const principal = await ctx.authenticate();
      if (!principal || principal.kind === 'anonymous') return fail(ctx, 401, 'UNAUTHORIZED', 'invalid username or password');
      if (principal.kind !== 'user') return fail(ctx, 403, 'FORBIDDEN', 'only users log in to the web UI; robots use their secret with the API');
      const created = await deps.store.create(principal);
      ctx.set('Set-Cookie', sessionCookie(deps.secure(), created.id, deps.lifetimeSeconds));
      answer(ctx, 201, { user: userOf(principal), csrfToken: created.csrf, expiresAt: created.expiresAt } satisfies SessionView);
    },

    async current(ctx: HttpContext): Promise<void> {
      const cookie = cookieOf(ctx.headers.cookie);
      const session = cookie ? await deps.store.find(cookie) : undefined;
      // The kernel's authentication of the cookie (our auth tap) also asks auth.active: a disabled user is out.
      const principal = session && !ctx.headers.authorization ? await ctx.authenticate() : undefined;
      if (!session || !principal || principal.kind === 'anonymous') return fail(ctx, 401, 'UNAUTHORIZED', 'no session; log in');
      // The page keeps the CSRF token in memory only: a reload asks again.
      answer(ctx, 200, { user: userOf(session.principal), expiresAt: session.expiresAt, csrfToken: session.csrf } satisfies SessionView);
    },

    async logout(ctx: HttpContext): Promise<void> {
      const cookie = cookieOf(ctx.headers.cookie);
      const session = cookie ? await deps.store.find(cookie) : undefined;
      if (session) {
        const csrf = ctx.headers[CSRF_HEADER];
        if (!SessionStore.csrfMatches(session, typeof csrf === 'string' ? csrf : undefined)) return fail(ctx, 403, 'FORBIDDEN', 'missing or wrong CSRF token');
        await deps.store.removeHash(session.idHash);
      }
      ctx.set('Set-Cookie', sessionCookie(deps.secure(), '', 0));
      ctx.status = 204;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = '';
    },
  };
}
