import { setTimeout as sleep } from 'node:timers/promises';
import { ANONYMOUS, RegistryError, isRegistryError, type AuthHooks, type Credentials, type Principal, type RequestInfo } from '@wharf/sdk';
import type { Logger } from 'pino';
import type { ActivePrincipals } from './active-principals.js';
import type { CredentialCache } from './credential-cache.js';
import type { LoginThrottle } from './login-throttle.js';

/**
 * Credentials to a principal, for the token endpoint and Basic auth on `/v2/`: the
 * `auth.authenticate` chain, then `auth.principal` enrichment. Recently verified credentials
 * come from the credential cache without asking the providers, and concurrent checks of the same
 * credentials share one provider call; every other attempt first waits out the failed-login
 * slowdown. A cached principal whose account `auth.active` reports inactive (deleted,
 * disabled) is dropped from the cache and checked again by the providers. Failures are logged
 * with user and address, never the password. Concurrent checks are bounded per user and per
 * address (429 with `Retry-After` beyond), and a refused check takes as long as the slowest
 * recent refusal, so the answer time does not tell which provider knows a user name.
 */

export type AuthOutcome = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly reason: string };

export interface AuthenticatorOptions {
  readonly hooks: AuthHooks;
  readonly logger: Logger;
  readonly cache: CredentialCache;
  readonly throttle: LoginThrottle;
  /** Re-checks cached logins, so a disabled account does not live on in the cache. */
  readonly active?: ActivePrincipals | undefined;
  /** How to wait (tests count instead of sleeping). */
  readonly wait?: (ms: number) => Promise<unknown>;
  /**
   * Records a login: every refused one, and each one the providers checked (not those served
   * from the credential cache, which are the same login again). Awaited: a login is recorded
   * before it is answered.
   */
  readonly onLogin?: (login: { readonly ok: boolean; readonly username: string; readonly principal?: Principal; readonly reason?: string }, info: RequestInfo) => Promise<void>;
  /** A refused check lasts at least this long (ms), and as long as recent refusals took; 0 or unset: no padding. */
  readonly failedLoginMinMs?: number;
}

/**
 * How long refused checks take: each refusal is padded to the slowest of the recent ones (at
 * least a floor, at most a cap), so "unknown to the first provider, refused by the last" and
 * "refused at once by the first" look alike from outside.
 */
export class RefusalTiming {
  private readonly recent: number[] = [];

  constructor(
    private readonly floorMs: number,
    private readonly capMs = 2000,
  ) {}

  /** How much longer a refusal that took `elapsedMs` must wait. */
  padFor(elapsedMs: number): number {
    this.recent.push(Math.min(elapsedMs, this.capMs));
    if (this.recent.length > 32) this.recent.shift();
    const target = Math.min(this.capMs, Math.max(this.floorMs, ...this.recent));
    return Math.max(0, target - elapsedMs);
  }
}

export class Authenticator {
  private readonly wait: (ms: number) => Promise<unknown>;
  private readonly inflight = new Map<string, Promise<Principal | undefined>>();
  private readonly timing: RefusalTiming | undefined;

  constructor(private readonly options: AuthenticatorOptions) {
    this.wait = options.wait ?? ((ms) => sleep(ms));
    this.timing = options.failedLoginMinMs ? new RefusalTiming(options.failedLoginMinMs) : undefined;
  }

  /** Runs `auth.principal` over a principal (also for one restored from a refresh token). */
  enrich(principal: Principal, info: RequestInfo): Promise<Principal> {
    const { principal: hook } = this.options.hooks;
    return hook.isUsed() ? hook.promise(principal, info) : Promise.resolve(principal);
  }

  /**
   * Who the credentials belong to. Without any auth provider the registry is open and
   * credentials are ignored (anonymous), as on `/v2/` without token auth. A provider that
   * throws anything but `UNAUTHORIZED` fails the request with its error.
   */
  async authenticate(credentials: Credentials, info: RequestInfo): Promise<AuthOutcome> {
    const { authenticate } = this.options.hooks;
    if (credentials.kind === 'anonymous') {
      const principal = authenticate.isUsed() ? await authenticate.promise(credentials, info) : undefined;
      return { ok: true, principal: principal ?? ANONYMOUS };
    }
    if (!authenticate.isUsed()) return { ok: true, principal: ANONYMOUS };
    if (credentials.kind !== 'basic') return this.fail('unsupported credentials', undefined, info);

    const { username, password } = credentials;
    const { cache, throttle } = this.options;
    const id = cache.idOf(username, password);
    const cached = cache.get(id);
    if (cached) {
      // Fresh: a password or secret changed since must not live on in this node's cache.
      if (!this.options.active || (await this.options.active.isActive(cached, { fresh: true }))) return { ok: true, principal: cached };
      cache.delete(id);
    }

    // A CI burst sends the same credentials many times at once: one provider check serves them all.
    let pending = this.inflight.get(id);
    const leader = !pending;
    if (!pending) {
      pending = this.check(credentials, info).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    const principal = await pending;
    if (!principal) return this.fail('invalid credentials', username, info);
    await throttle.recordSuccess(username);
    cache.set(id, principal);
    if (leader) await this.options.onLogin?.({ ok: true, username, principal }, info);
    return { ok: true, principal };
  }

  /**
   * Takes a check slot, waits out the slowdown, then asks the providers; `undefined` when they
   * refuse (after the refusal padding).
   */
  private async check(credentials: Credentials & { kind: 'basic' }, info: RequestInfo): Promise<Principal | undefined> {
    const { throttle } = this.options;
    const gate = await throttle.enter(credentials.username, info.ip);
    if (!gate.ok) {
      this.options.logger.warn({ user: credentials.username, ip: info.ip, reqId: info.requestId }, 'login refused: too many concurrent attempts');
      throw new RegistryError('TOOMANYREQUESTS', 'too many concurrent login attempts; retry later', {
        status: 429,
        headers: { 'Retry-After': String(gate.retryAfterSeconds) },
      });
    }
    try {
      const delay = await throttle.delayFor(credentials.username, info.ip);
      if (delay > 0) await this.wait(delay);
      const started = performance.now();
      let principal: Principal | undefined;
      try {
        principal = await this.options.hooks.authenticate.promise(credentials, info);
      } catch (err) {
        if (!(isRegistryError(err) && err.code === 'UNAUTHORIZED')) throw err;
      }
      if (principal) return await this.enrich(principal, info);
      const pad = Math.round(this.timing?.padFor(performance.now() - started) ?? 0);
      // Differences of a few ms drown in network jitter; waiting for them would only cost.
      if (pad >= 5) await this.wait(pad);
      return undefined;
    } finally {
      await gate.release();
    }
  }

  private async fail(reason: string, user: string | undefined, info: RequestInfo): Promise<AuthOutcome> {
    const failures = user === undefined ? undefined : await this.options.throttle.recordFailure(user, info.ip);
    this.options.logger.warn(
      { user, ip: info.ip, reason, failures: failures === undefined ? undefined : Math.round(failures * 10) / 10, reqId: info.requestId },
      'login failed',
    );
    if (user !== undefined) await this.options.onLogin?.({ ok: false, username: user, reason }, info);
    return { ok: false, reason };
  }
}
