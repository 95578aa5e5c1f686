import { createHmac, randomBytes } from 'node:crypto';
import type { Principal } from '@wharf/sdk';
import { BoundedCache } from './bounded-cache.js';

/**
 * Recently verified credentials, so a CI burst of token requests does not ask the auth
 * provider (a bcrypt hash, an LDAP bind) for each one. Entries are keyed by an HMAC of user and
 * password under a random per-process key: the password is never stored, and the key cannot be
 * reversed or precomputed. Only successful logins are stored, so a wrong password never hits.
 * Per process on purpose: each node warms its own cache, nothing secret is shared.
 */
export class CredentialCache {
  private readonly key = randomBytes(32);
  private readonly cache: BoundedCache<string, Principal>;

  constructor(
    private readonly ttlSeconds: number,
    size: number,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new BoundedCache(ttlSeconds > 0 ? size : 0, now);
  }

  /** The keyed hash credentials are known by (also for coalescing concurrent checks). */
  idOf(username: string, password: string): string {
    // Length-prefixed, so ("a:b", "c") and ("a", "b:c") never collide.
    return createHmac('sha256', this.key).update(`${Buffer.byteLength(username)}:${username}`).update(password).digest('base64url');
  }

  get(id: string): Principal | undefined {
    return this.cache.get(id);
  }

  /** Forgets credentials (their account was found inactive). */
  delete(id: string): void {
    this.cache.delete(id);
  }

  set(id: string, principal: Principal): void {
    this.cache.set(id, principal, this.now() + this.ttlSeconds * 1000);
  }

  get size(): number {
    return this.cache.size;
  }
}
