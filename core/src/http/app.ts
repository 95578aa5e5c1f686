import Koa from 'koa';
import { isApiError, type Principal } from '@wharf/sdk';
import type { Kernel } from '../kernel/kernel.js';
import { authenticateApiRequest } from './api/api-auth.js';
import { createApiRouter } from './api/api-router.js';
import { buildOpenApiDocument } from './api/openapi.js';
import { accessLog } from './middleware/access-log.js';
import { deniedAccess } from './middleware/denied-access.js';
import { errorHandler, ociOnError } from './middleware/error-handler.js';
import { extensionRoutes } from './middleware/extension-routes.js';
import { healthRoutes } from './middleware/health.js';
import { observeRequests } from './middleware/observe-requests.js';
import { requestId } from './middleware/request-id.js';
import { securityHeaders } from './middleware/security-headers.js';
import { createTokenRouter } from './routes/token.js';
import { createV2Router, type V2Deps } from './routes/v2/index.js';

/**
 * The koa application of a booted kernel:
 * (request observation, when tapped) -> request id -> security headers -> access log -> errors -> health -> token service (when enabled)
 * -> /api/v1 (management API) -> /v2/ -> /_ext/<plugin>.
 * Built after boot (the storage and metadata services exist) and after the public URL is known.
 */
export function createApp(kernel: Kernel): Koa {
  if (kernel.state !== 'ready') throw new Error(`createApp needs a booted kernel (state: ${kernel.state})`);
  const { config, hooks, logger } = kernel;
  const app = new Koa({ proxy: config.server.trustProxy });
  // Errors are logged by our middleware with the request id; koa's stderr printer stays quiet.
  app.silent = true;
  app.context.onerror = ociOnError(logger) as never;

  const storage = kernel.storage();
  const metadata = kernel.metadata();
  // Taps are sealed by now: an app nobody observes pays nothing for the hooks.
  if (hooks.http.requestStarted.isUsed() || hooks.http.requestFinished.isUsed()) {
    app.use(observeRequests(hooks.http, logger.child({ component: 'http' })) as Koa.Middleware);
  }
  app.use(requestId(logger) as Koa.Middleware);
  app.use(securityHeaders());
  if (config.log.access) app.use(accessLog() as Koa.Middleware);
  app.use(deniedAccess(kernel.accessDenied) as Koa.Middleware);
  app.use(errorHandler(logger) as Koa.Middleware);
  app.use(healthRoutes({ storage, metadata, logger }) as Koa.Middleware);

  const token = kernel.tokenAuth();
  if (token) {
    // No allowedMethods() here: it would answer for paths the /v2/ router owns.
    app.use(createTokenRouter(token, hooks.auth, kernel.accessDenied).routes() as unknown as Koa.Middleware);
  }
  let openapi: string | undefined;
  app.use(
    createApiRouter({
      routes: kernel.api.routes(),
      hooks,
      auth: kernel.auth,
      token,
      logger,
      publicUrl: () => kernel.settings.publicUrl,
      openapi: () => (openapi ??= JSON.stringify(buildOpenApiDocument(kernel.api.list(), { version: kernel.version }))),
    }) as Koa.Middleware,
  );
  const deps: V2Deps = {
    hooks,
    storage,
    metadata,
    registry: config.registry,
    logger,
    publicUrl: kernel.settings.publicUrl,
    auth: kernel.auth,
    events: kernel.events,
    token,
  };
  const v2 = createV2Router(deps);
  app.use(v2.routes() as unknown as Koa.Middleware);
  app.use(v2.allowedMethods() as unknown as Koa.Middleware);
  // HttpContext.authenticate: the management API's authentication, a refusal as `undefined`.
  const authenticate = async (ctx: Koa.Context): Promise<Principal | undefined> => {
    const info = { requestId: ctx.state.requestId, ip: ctx.ip, method: ctx.method, path: ctx.path, userAgent: ctx.get('user-agent') || undefined, header: (name: string) => ctx.get(name) || undefined };
    try {
      return await authenticateApiRequest(ctx.get('authorization'), info, { hooks: hooks.auth, auth: kernel.auth, token }, ctx.state.log ?? logger);
    } catch (err) {
      if (isApiError(err) && err.code === 'UNAUTHORIZED') return undefined;
      throw err;
    }
  };
  for (const mw of extensionRoutes(kernel.extensionRoutes, authenticate as never)) app.use(mw);
  return app;
}
