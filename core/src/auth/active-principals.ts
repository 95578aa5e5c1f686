import type { AuthHooks, Principal } from '@wharf/sdk';
import { BoundedCache } from './bounded-cache.js';

/**
 * Asks `auth.active` whether a principal restored from a token or from the credential cache
 * (not freshly from credentials) may still act: its account may have been deleted or disabled,
 * its admin flag or password changed, since. Answers are cached per principal (provider,
 * subject, admin flag and claims: a provider may compare them with what it stores) for
 * `ttlSeconds`, so a push that sends the same token a hundred times asks the provider once.
 * That window is how late a revocation can be noticed on a Bearer token; with many nodes each
 * node keeps its own cache, so the bound stays the same. Refresh grants and logins answered from
 * the credential cache ask `fresh`: a changed password or robot secret stops them at once.
 */

export interface ActivePrincipalsOptions {
  readonly hooks: AuthHooks;
  /** How long an answer is reused; 0 asks every time. */
  readonly ttlSeconds: number;
  /** Bound on remembered subjects. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

export class ActivePrincipals {
  private readonly cache: BoundedCache<string, boolean>;
  private readonly inflight = new Map<string, Promise<boolean>>();
  private readonly now: () => number;

  constructor(private readonly options: ActivePrincipalsOptions) {
    this.now = options.now ?? Date.now;
    this.cache = new BoundedCache(options.ttlSeconds > 0 ? (options.maxEntries ?? 10_000) : 0, this.now);
  }

  /**
   * False only when a tap answered `false`. Anonymous principals, and any principal nobody
   * claims, stay active. A tap that throws fails the request (an outage must not let a revoked
   * token through, nor be mistaken for a revocation).
   */
  async isActive(principal: Principal, options: { readonly fresh?: boolean } = {}): Promise<boolean> {
    const { active } = this.options.hooks;
    if (principal.kind === 'anonymous' || !active.isUsed()) return true;
    const key = keyOf(principal);
    const cached = options.fresh ? undefined : this.cache.get(key);
    if (cached !== undefined) return cached;
    // Concurrent questions share one answer; it may be a few ms old, never a cached one.
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = active
        .promise(principal)
        .then((answer) => {
          const result = answer !== false;
          this.cache.set(key, result, this.now() + this.options.ttlSeconds * 1000);
          return result;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }
}

/** Length-prefixed parts, so no two principals share a key by accident of concatenation. */
function keyOf(p: Principal): string {
  const claims = p.claims === undefined ? '' : JSON.stringify(p.claims);
  return [p.provider, p.subject, p.admin ? 'a' : 'u', claims].map((part) => `${part.length}:${part}`).join('');
}
