import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiError, coreServices, definePlugin, type HttpContext } from '@wharf/sdk';
import { uiConfigSchema } from './config.js';
import { EXTENSIONS_PREFIX, loadUiExtensions, registerExtensionsApi, type UiExtensions } from './extensions.js';
import { uiMigrations } from './migrations.js';
import { CONTENT_SECURITY_POLICY, CSRF_HEADER, isReservedPath, SAFE_METHODS } from './security.js';
import { cookieOf, sessionRoutes, type SessionDeps } from './session-routes.js';
import { SessionStore } from './sessions.js';
import { loadStaticFiles, type StaticFile } from './static-files.js';

/**
 * The web UI: serves the single-page app built into `web-dist/` at `/` (client routes fall back
 * to `index.html`), keeps browser sessions in the database, and lets the session cookie
 * authenticate `/api/v1` calls through an `auth.authenticate` tap, with a CSRF header required
 * on every state-changing call. The page itself only talks to the management API.
 * See README.md, docs/architecture/25-web-ui.md and docs/adr/0033-web-ui-stack.md.
 */

export const VERSION = '0.1.0';

/** Where the built app lives (next to `dist/`). */
export const WEB_DIST = fileURLToPath(new URL('../web-dist/', import.meta.url));

export const uiPlugin = definePlugin({
  id: 'ui',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'The web UI at /: projects, repositories and tags in English and Chinese, on the management API with cookie sessions; screens contributed by plugins',
  configSchema: uiConfigSchema,
  register(ctx) {
    const { config } = ctx;
    ctx.migrations(uiMigrations);
    let store: SessionStore | undefined;
    let sweeper: NodeJS.Timeout | undefined;
    const deps: SessionDeps = {
      get store() {
        if (!store) throw new Error('ui: sessions used before init');
        return store;
      },
      secure: () => new URL(ctx.settings.publicUrl).protocol === 'https:',
      lifetimeSeconds: config.sessionMinutes * 60,
    };
    let extensions: UiExtensions | undefined;
    ctx.registerInit({
      deps: { database: coreServices.database, uiContributions: coreServices.uiContributions },
      init({ database, uiContributions }) {
        store = new SessionStore(database, { lifetimeMs: config.sessionMinutes * 60_000, idleMs: config.idleMinutes * 60_000 });
        // Plugins' UI modules (ADR 0039): served from their packages, listed for the page.
        extensions = loadUiExtensions(uiContributions, ctx.logger);
        registerExtensionsApi(ctx.api, extensions, `/_ext/${ctx.id}`);
      },
    });
    ctx.hooks.lifecycle.ready.tapPromise(ctx.id, async () => {
      sweeper = setInterval(() => void store?.sweep().catch((err: unknown) => ctx.logger.warn({ err }, 'ui: sweeping expired sessions failed')), 10 * 60_000);
      sweeper.unref();
    });
    ctx.hooks.lifecycle.close.tapPromise(ctx.id, async () => clearInterval(sweeper));

    // The session cookie as a credential of the management API. Only requests without an
    // Authorization header reach here as anonymous; a state-changing one must carry the CSRF token.
    ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials, info) => {
      if (credentials.kind !== 'anonymous' || !info.header) return undefined;
      // The kernel then asks auth.active about the principal, fresh: a disabled user stops at once.
      const session = await store?.find(cookieOf(info.header('cookie')) ?? '');
      if (!session) return undefined;
      if (!SAFE_METHODS.has(info.method) && !SessionStore.csrfMatches(session, info.header(CSRF_HEADER))) {
        throw new ApiError('FORBIDDEN', 'a request made with the session cookie needs the X-CSRF-Token header of its session');
      }
      return session.principal;
    });

    const files = existsSync(WEB_DIST) ? loadStaticFiles(WEB_DIST) : new Map<string, StaticFile>();
    if (!files.has('/index.html')) ctx.logger.warn({ dir: WEB_DIST }, 'ui: the web app is not built (npm run build); / answers 503');
    const session = sessionRoutes(deps);
    ctx.routes((router) => {
      router.post('/session', session.login);
      router.get('/session', session.current);
      router.delete('/session', session.logout);
      router.get(`${EXTENSIONS_PREFIX}/*file`, (http, next) => (extensions ? extensions.serve(http, next, router.prefix) : next()));
      router.getFallback((http, next) => serveApp(http, next, files));
    });
  },
});

/** A built file, or `index.html` for a client route; never a reserved path. */
async function serveApp(ctx: HttpContext, next: () => Promise<void>, files: ReadonlyMap<string, StaticFile>): Promise<void> {
  if (isReservedPath(ctx.path)) return next();
  const index = files.get('/index.html');
  if (!index) {
    ctx.status = 503;
    ctx.set('Content-Type', 'text/plain; charset=utf-8');
    ctx.body = 'The web UI is not built: run npm run build.\n';
    return;
  }
  let file = files.get(ctx.path);
  // A missing asset is a 404, not the app: a stale page must not get HTML for its script.
  if (!file && (ctx.path.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(ctx.path))) return next();
  file ??= index;
  ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  ctx.set('Cache-Control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  ctx.set('ETag', file.etag);
  ctx.set('Vary', 'Accept-Encoding');
  ctx.set('Content-Type', file.type);
  if (ctx.headers['if-none-match'] === file.etag) {
    ctx.status = 304;
    ctx.body = '';
    return;
  }
  ctx.status = 200;
  if (file.gzip && /\bgzip\b/.test(String(ctx.headers['accept-encoding'] ?? ''))) {
    ctx.set('Content-Encoding', 'gzip');
    ctx.body = file.gzip;
  } else ctx.body = file.body;
}

export default uiPlugin;
export { uiConfigSchema, type UiConfig } from './config.js';
