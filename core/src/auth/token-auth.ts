import type { KernelHooks, Principal } from '@wharf/sdk';
import type { Logger } from 'pino';
import type { TokenSettings } from '../config/types.js';
import type { ActivePrincipals } from './active-principals.js';
import type { Authenticator } from './authenticator.js';
import { grantWithReasons, type Grant } from './grant.js';
import { createKernelAuth, type KernelAuth } from './kernel-auth.js';
import { loadTokenKeys, type TokenKeys } from './keys.js';
import type { LoginThrottleOptions } from './login-throttle.js';
import { formatScopes, type ResourceScope } from './scope.js';
import { TokenService } from './token-service.js';

/**
 * Docker token auth as the kernel runs it: the token service, the kernel's authenticator (shared
 * by the token endpoint, Basic auth on `/v2/` and `/api/v1`), granting, and the
 * `WWW-Authenticate` challenge. Built once at boot when `token.enabled` is true.
 */

export interface TokenAuthOptions {
  readonly settings: TokenSettings;
  readonly keys: TokenKeys;
  readonly hooks: KernelHooks;
  readonly logger: Logger;
  /** The public URL, read on each use: it is only final once the server listens. */
  readonly publicUrl: () => string;
  /** The kernel's shared authenticator and active check; built from `settings` when absent. */
  readonly auth?: KernelAuth;
  readonly now?: () => number;
  readonly throttle?: LoginThrottleOptions;
  readonly wait?: (ms: number) => Promise<unknown>;
}

/** The `error` parameter of a Bearer challenge (RFC 6750). */
export type ChallengeError = 'invalid_token' | 'insufficient_scope';

const quote = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;
/** RFC 6750 3: `error_description` holds printable ASCII without `"` and `\`. */
const descriptionChars = (value: string) => value.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?').slice(0, 300);

export class TokenAuth {
  readonly settings: TokenSettings;
  readonly tokens: TokenService;
  readonly authenticator: Authenticator;
  /** Asks `auth.active` about principals restored from tokens (refresh grants, Bearer). */
  readonly active: ActivePrincipals;
  readonly keys: TokenKeys;
  private readonly hooks: KernelHooks;
  private readonly publicUrl: () => string;

  constructor(options: TokenAuthOptions) {
    const { settings, keys, hooks, logger, now } = options;
    this.settings = settings;
    this.keys = keys;
    this.hooks = hooks;
    this.publicUrl = options.publicUrl;
    this.tokens = new TokenService({ settings, keys, ...(now ? { now } : {}) });
    const auth = options.auth ?? createKernelAuth({ hooks: hooks.auth, settings, logger, now, throttle: options.throttle, wait: options.wait });
    this.authenticator = auth.authenticator;
    this.active = auth.active;
  }

  get service(): string {
    return this.settings.service;
  }

  /** The token endpoint clients are sent to. */
  get realm(): string {
    return this.settings.realm ?? `${this.publicUrl()}/service/token`;
  }

  /**
   * `Bearer realm="...",service="..."[,scope="..."][,error="..."][,error_description="..."]`, as
   * distribution sends it. Clients print `error_description` as the error's message: it is the
   * only place a refusal can say why on a HEAD request, whose answer has no body.
   */
  challenge(scopes: readonly ResourceScope[], error?: ChallengeError, description?: string): string {
    let value = `Bearer realm=${quote(this.realm)},service=${quote(this.service)}`;
    const scope = formatScopes(scopes);
    if (scope) value += `,scope=${quote(scope)}`;
    if (error) value += `,error=${quote(error)}`;
    if (error && description) value += `,error_description="${descriptionChars(description)}"`;
    return value;
  }

  /** The intersection of what was asked and what `principal` may do, and why the rest was refused. */
  grant(principal: Principal, requested: readonly ResourceScope[]): Promise<Grant> {
    return grantWithReasons(this.hooks.rbac, principal, requested);
  }
}

/** Loads (or generates) the keys and builds the token auth of a kernel. */
export async function createTokenAuth(
  options: Omit<TokenAuthOptions, 'keys'> & { readonly dataDir: string; readonly baseDir: string },
): Promise<TokenAuth> {
  const keys = await loadTokenKeys({ settings: options.settings, dataDir: options.dataDir, baseDir: options.baseDir });
  for (const warning of keys.warnings) options.logger.warn(warning);
  options.logger.info(
    {
      kid: keys.signing.kid,
      alg: keys.signing.alg,
      keySource: keys.source,
      generated: keys.generated,
      verificationKeys: keys.verification.size,
      service: options.settings.service,
    },
    'token service ready',
  );
  return new TokenAuth({ ...options, keys });
}
