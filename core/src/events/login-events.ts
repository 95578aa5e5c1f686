import { authEvents, eventContextOf, type EventService, type Principal, type RequestInfo } from '@wharf/sdk';
import type { Logger } from 'pino';

/**
 * Login events (`auth.login.succeeded`, `auth.login.failed`), recorded before the login is
 * answered. The user name is cut to 128 characters (it is attacker input); the password never
 * comes here. A failed write is logged, not turned into a failed login: a login changes nothing.
 */

const MAX_NAME = 128;

/** Where credentials came in, from the request path. */
export function loginVia(path: string): 'token' | 'v2' | 'api' | 'other' {
  if (path.startsWith('/service/token')) return 'token';
  if (path.startsWith('/v2')) return 'v2';
  if (path.startsWith('/api/')) return 'api';
  return 'other';
}

export function loginRecorder(events: () => EventService, logger: Logger) {
  return async (login: { readonly ok: boolean; readonly username: string; readonly principal?: Principal; readonly reason?: string }, info: RequestInfo): Promise<void> => {
    const username = login.username.slice(0, MAX_NAME);
    // A refused login has no actor: nobody was authenticated. The name tried is in the data.
    const context = login.principal
      ? eventContextOf(login.principal, info)
      : { request: { requestId: info.requestId, ip: info.ip, userAgent: info.userAgent } };
    try {
      await events().publish({
        type: login.ok ? authEvents.loginSucceeded : authEvents.loginFailed,
        partition: `user:${username}`,
        data: { username, provider: login.principal?.provider, via: loginVia(info.path), ...(login.reason ? { reason: login.reason } : {}) },
        ...context,
      });
    } catch (err) {
      logger.error({ err, user: username }, 'could not record a login event');
    }
  };
}
