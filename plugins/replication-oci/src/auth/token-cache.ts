/**
 * Bearer tokens by scope set, reused until shortly before they expire. A token is asked for
 * once per scope set even when many requests need it at the same moment.
 */

export interface CachedToken {
  readonly token: string;
  /** Epoch ms after which the token is not used any more. */
  readonly refreshAt: number;
}

/** The spec's default lifetime when the token server names none. */
export const DEFAULT_EXPIRES_IN_S = 60;

/** When to stop using a token: a margin of 20% of its lifetime, at most 30 s, before it expires. */
export function refreshTime(now: number, expiresInSeconds: number | undefined): number {
  const lifetime = Math.max(1, expiresInSeconds ?? DEFAULT_EXPIRES_IN_S) * 1000;
  return now + lifetime - Math.min(30_000, lifetime * 0.2);
}

export class TokenCache {
  readonly #tokens = new Map<string, CachedToken>();
  readonly #pending = new Map<string, Promise<CachedToken>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A fresh cached token for `key`, or the one `fetch` gets (shared by concurrent callers). */
  async get(key: string, fetch: () => Promise<CachedToken>): Promise<string> {
    const cached = this.#tokens.get(key);
    if (cached && cached.refreshAt > this.#now()) return cached.token;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = fetch().finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    const got = await pending;
    this.#tokens.set(key, got);
    return got.token;
  }

  /** Forgets the token of `key` (the registry refused it). */
  delete(key: string): void {
    this.#tokens.delete(key);
  }

  clear(): void {
    this.#tokens.clear();
  }
}
