import { BoundedCache } from './bounded-cache.js';

/**
 * Slows repeated failed logins down, per user name and per client address, without ever
 * locking anyone out: each failure raises a score that halves every `halfLifeMs`; the next
 * attempt waits `baseDelayMs * 2^(score-1)`, capped at `maxDelayMs`. A successful login resets
 * the user's score (not the address's: one good account must not launder a guessing client).
 *
 * In memory, per process: good enough for one node, and a many-node deployment still slows a
 * guesser down on every node. A shared (Redis) backend can replace it later.
 */

export interface LoginThrottleOptions {
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly halfLifeMs?: number;
  /** Bound on remembered users and addresses (a spray of user names must not grow memory). */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Score {
  value: number;
  at: number;
}

export class LoginThrottle {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  private readonly halfLifeMs: number;
  private readonly now: () => number;
  private readonly scores: BoundedCache<string, Score>;

  constructor(options: LoginThrottleOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 4000;
    this.halfLifeMs = options.halfLifeMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.scores = new BoundedCache(options.maxEntries ?? 10_000, this.now);
  }

  private current(key: string): number {
    const s = this.scores.get(key);
    if (!s) return 0;
    return s.value * 0.5 ** ((this.now() - s.at) / this.halfLifeMs);
  }

  private delayOf(score: number): number {
    if (score < 1) return 0;
    return Math.min(this.maxDelayMs, Math.round(this.baseDelayMs * 2 ** (score - 1)));
  }

  /** How long to wait before checking credentials of `user` from `ip`. */
  delayFor(user: string, ip: string): number {
    return Math.max(this.delayOf(this.current(`u:${user}`)), this.delayOf(this.current(`i:${ip}`)));
  }

  /** Records a failure; returns the user's failure score (for the log). */
  recordFailure(user: string, ip: string): number {
    const now = this.now();
    // A score below 1/1000 after ten half-lives is as good as forgotten.
    const forget = now + this.halfLifeMs * 10;
    const userScore = this.current(`u:${user}`) + 1;
    this.scores.set(`u:${user}`, { value: userScore, at: now }, forget);
    this.scores.set(`i:${ip}`, { value: this.current(`i:${ip}`) + 1, at: now }, forget);
    return userScore;
  }

  recordSuccess(user: string): void {
    this.scores.delete(`u:${user}`);
  }
}
