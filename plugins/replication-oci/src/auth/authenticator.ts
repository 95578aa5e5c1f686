import type { PluginContext, ReplicationCredentials } from '@wharf/sdk';
import { pickChallenge, parseChallenges, type Challenge } from './challenge.js';
import { formatScope, mergeScopes, parseScopes, scopeKey, type Scope } from './scopes.js';
import { refreshTime, TokenCache, type CachedToken } from './token-cache.js';

type Logger = PluginContext<unknown>['logger'];

/**
 * The `Authorization` header of each request. Requests go out anonymously until the registry
 * answers with a challenge; from then on the scheme it asked for is used up front (streamed
 * bodies cannot be replayed after a 401, so they must carry credentials the first time).
 */

/** Fetches a token from a realm (the HTTP client does it, with the endpoint's TLS settings). */
export type TokenFetcher = (realm: URL, authorization: string | undefined, scopeKey: string) => Promise<{ token: string; expiresIn: number | undefined }>;

export class Authenticator {
  readonly #credentials: ReplicationCredentials | undefined;
  readonly #fetchToken: TokenFetcher;
  readonly #base: URL;
  readonly #logger: Logger | undefined;
  readonly #tokens = new TokenCache();
  /** Scopes a challenge added to an operation's own (e.g. `*` for a delete on distribution). */
  readonly #wanted = new Map<string, Scope[]>();
  #challenge: Challenge | undefined;

  constructor(options: { credentials: ReplicationCredentials | undefined; base: URL; fetchToken: TokenFetcher; logger?: Logger | undefined }) {
    this.#credentials = options.credentials;
    this.#fetchToken = options.fetchToken;
    this.#base = options.base;
    this.#logger = options.logger;
  }

  /** The scheme learned from the registry: `bearer`, `basic` or undefined (anonymous so far). */
  get scheme(): string | undefined {
    return this.#challenge?.scheme;
  }

  /** Whether credentials are configured (Basic needs them; Bearer works anonymously too). */
  get hasCredentials(): boolean {
    return this.#credentials !== undefined;
  }

  #basic(): string | undefined {
    const c = this.#credentials;
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}` : undefined;
  }

  /** The header for a request needing `scopes`, under the scheme learned so far. */
  async header(scopes: readonly Scope[]): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return this.#basic();
    const wanted = this.#wanted.get(scopeKey(scopes)) ?? mergeScopes(scopes);
    const token = await this.#tokens.get(scopeKey(wanted), () => this.#token(challenge, wanted));
    return `Bearer ${token}`;
  }

  /**
   * Learns from a 401's `WWW-Authenticate`: the scheme, and the scopes the registry wants for
   * this operation on top of its own. Returns undefined when there is no way to authenticate
   * (no usable challenge, or a Basic challenge without credentials).
   */
  onChallenge(header: string | readonly string[] | undefined, scopes: readonly Scope[], sentBearer: boolean): Scope[] | undefined {
    const challenge = pickChallenge(parseChallenges(header));
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic' && !this.#credentials) return undefined;
    const key = scopeKey(scopes);
    // A token the registry refused is never offered again.
    if (sentBearer) this.#tokens.delete(scopeKey(this.#wanted.get(key) ?? mergeScopes(scopes)));
    const wanted = mergeScopes(this.#wanted.get(key) ?? [], scopes, challenge.scheme === 'bearer' ? parseScopes(challenge.params['scope']) : []);
    this.#wanted.set(key, wanted);
    this.#challenge = challenge;
    return wanted;
  }

  async #token(challenge: Challenge, scopes: readonly Scope[]): Promise<CachedToken> {
    const realm = new URL(challenge.params['realm'] ?? '', this.#base);
    const service = challenge.params['service'];
    if (service) realm.searchParams.set('service', service);
    for (const scope of scopes) realm.searchParams.append('scope', formatScope(scope));
    if (this.#credentials) realm.searchParams.set('account', this.#credentials.username);
    const key = scopeKey(scopes);
    const started = Date.now();
    const got = await this.#fetchToken(realm, this.#basic(), key);
    // Logs name the scopes, never the token.
    this.#logger?.debug({ realm: realm.origin + realm.pathname, scopes: key, expiresIn: got.expiresIn }, 'replication target token obtained');
    return { token: got.token, refreshAt: refreshTime(started, got.expiresIn) };
  }

  /** Whether a 401 header says the token lacked the scope (rather than being invalid). */
  static insufficientScope(header: string | readonly string[] | undefined): boolean {
    return parseChallenges(header).some((c) => c.params['error'] === 'insufficient_scope');
  }
}
