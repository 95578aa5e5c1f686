import type { Middleware } from 'koa';
import type { Principal } from '@wharf/sdk';
import type { AccessDenialRecorder } from '../../events/access-denials.js';

/**
 * Reports 401 and 403 answers of `/api/v1` and `/v2/` to the refused-access recorder, once the
 * response is sent (whichever layer refused). Left out: an anonymous 401 on `/v2/` (the
 * challenge every Docker client meets before it logs in) and a 401 to Basic credentials (a
 * failed login, recorded as `auth.login.failed`). The token service reports the scopes it did
 * not grant itself.
 */

const REPOSITORY = /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)(?:\/|$)/;

export function deniedAccess(record: AccessDenialRecorder): Middleware<{ requestId: string; route?: string; principal?: Principal }> {
  return async function deniedAccessMiddleware(ctx, next) {
    const via = ctx.path.startsWith('/api/') ? 'api' : ctx.path === '/v2' || ctx.path.startsWith('/v2/') ? 'v2' : undefined;
    if (via === undefined) return next();
    ctx.res.once('finish', () => {
      const status = ctx.res.statusCode;
      if (status !== 401 && status !== 403) return;
      const scheme = ctx.get('authorization').split(' ', 1)[0]!.toLowerCase();
      if (status === 401 && (scheme === 'basic' || (via === 'v2' && scheme === ''))) return;
      const matched = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
      const route = ctx.state.route ?? (typeof matched === 'string' ? matched : 'unmatched');
      const repository = via === 'v2' ? REPOSITORY.exec(ctx.path)?.[1] : undefined;
      record({
        principal: ctx.state.principal,
        info: { requestId: ctx.state.requestId, ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined },
        operation: `${ctx.method} ${route}`,
        resource: repository ?? ctx.path,
        status,
        via,
      });
    });
    return next();
  };
}
