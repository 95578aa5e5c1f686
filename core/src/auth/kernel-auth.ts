import type { AuthHooks } from '@wharf/sdk';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { TokenSettings } from '../config/types.js';
import { ActivePrincipals } from './active-principals.js';
import { Authenticator, type AuthenticatorOptions } from './authenticator.js';
import { CredentialCache } from './credential-cache.js';
import { KnexLoginAttempts } from './login-attempts.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';

/**
 * The kernel's one authenticator (credential cache, failed-login slowdown, failure logging) and
 * its `auth.active` check, shared by the token endpoint, `/v2/` and `/api/v1`: a guesser is
 * slowed down the same whichever door they knock on. Built whether or not token auth is on;
 * the cache sizes and login limits come from the `token` section. With a database the
 * failed-login counters and concurrent-login slots live there, shared by every node.
 */
export interface KernelAuth {
  readonly authenticator: Authenticator;
  readonly active: ActivePrincipals;
}

export interface KernelAuthOptions {
  readonly hooks: AuthHooks;
  readonly settings: Pick<TokenSettings, 'credentialCacheSeconds' | 'credentialCacheSize' | 'activeCacheSeconds'> &
    Partial<Pick<TokenSettings, 'loginConcurrencyPerUser' | 'loginConcurrencyPerAddress' | 'failedLoginMinMs'>>;
  /** The metadata database (read on first use, after boot); without it counters stay in memory. */
  readonly database?: (() => Knex) | undefined;
  readonly logger: Logger;
  readonly now?: (() => number) | undefined;
  readonly throttle?: LoginThrottleOptions | undefined;
  readonly wait?: ((ms: number) => Promise<unknown>) | undefined;
  readonly onLogin?: AuthenticatorOptions['onLogin'];
}

export function createKernelAuth(options: KernelAuthOptions): KernelAuth {
  const { hooks, settings, logger, now } = options;
  const active = new ActivePrincipals({ hooks, ttlSeconds: settings.activeCacheSeconds, ...(now ? { now } : {}) });
  const authenticator = new Authenticator({
    hooks,
    logger,
    cache: new CredentialCache(settings.credentialCacheSeconds, settings.credentialCacheSize, now),
    throttle: new LoginThrottle({
      ...(settings.loginConcurrencyPerUser !== undefined ? { perUserConcurrency: settings.loginConcurrencyPerUser } : {}),
      ...(settings.loginConcurrencyPerAddress !== undefined ? { perAddressConcurrency: settings.loginConcurrencyPerAddress } : {}),
      ...(options.database ? { store: new KnexLoginAttempts(options.database, now) } : {}),
      ...options.throttle,
      ...(now ? { now } : {}),
    }),
    active,
    ...(settings.failedLoginMinMs !== undefined ? { failedLoginMinMs: settings.failedLoginMinMs } : {}),
    ...(options.wait ? { wait: options.wait } : {}),
    ...(options.onLogin ? { onLogin: options.onLogin } : {}),
  });
  return Object.freeze({ authenticator, active });
}
