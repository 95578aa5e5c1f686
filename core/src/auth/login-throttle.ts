import { MemoryLoginAttempts, type LoginAttemptStore, type Score } from './login-attempts.js';

/**
 * Slows repeated failed logins down, per user name and per client address, without ever
 * locking anyone out: each failure raises a score that halves every `halfLifeMs`; the next
 * attempt waits `baseDelayMs * 2^(score-1)`, capped at `maxDelayMs`. A successful login resets
 * the user's score (not the address's: one good account must not launder a guessing client).
 * Concurrency is bounded too: at most `perUserConcurrency` checks of one user name and
 * `perAddressConcurrency` from one address run at once; beyond that the caller is told to
 * come back later (429 with `Retry-After`), so parallel guesses cannot skip the slowdown.
 *
 * User names are normalised for the counters (Unicode NFKC, trimmed, lower case), as directory
 * providers match them: `ALICE` and `alice ` are the same guesser's target. Counters and slots
 * live in a {@link LoginAttemptStore}: the metadata database when the kernel has one, so every
 * node sharing it counts together.
 */

export interface LoginThrottleOptions {
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly halfLifeMs?: number;
  /** Bound on remembered users and addresses in memory (a spray of user names must not grow memory). */
  readonly maxEntries?: number;
  /** Concurrent checks of one user name (0: no limit). */
  readonly perUserConcurrency?: number;
  /** Concurrent checks from one client address (0: no limit). */
  readonly perAddressConcurrency?: number;
  /** Where counters live; default in memory. */
  readonly store?: LoginAttemptStore;
  readonly now?: () => number;
}

export type LoginGate = { readonly ok: true; release(): Promise<void> } | { readonly ok: false; readonly retryAfterSeconds: number };

/** The spelling counters use for a user name. */
export function normalizeLoginName(username: string): string {
  return username.normalize('NFKC').trim().toLowerCase();
}

const userKey = (user: string) => `u:${normalizeLoginName(user)}`;
const addressKey = (ip: string) => `i:${ip}`;
/** How long a slot of a node that died mid-check blocks others. */
const SLOT_TTL_MS = 60_000;

export class LoginThrottle {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  private readonly halfLifeMs: number;
  private readonly perUser: number;
  private readonly perAddress: number;
  private readonly now: () => number;
  private readonly store: LoginAttemptStore;

  constructor(options: LoginThrottleOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 4000;
    this.halfLifeMs = options.halfLifeMs ?? 60_000;
    this.perUser = options.perUserConcurrency ?? 4;
    this.perAddress = options.perAddressConcurrency ?? 16;
    this.now = options.now ?? Date.now;
    this.store = options.store ?? new MemoryLoginAttempts(options.maxEntries ?? 10_000, this.now);
  }

  private decayed(s: Score | undefined): number {
    return s ? s.value * 0.5 ** ((this.now() - s.at) / this.halfLifeMs) : 0;
  }

  private delayOf(score: number): number {
    // Not `< 1`: one failure's score decays below 1 within a millisecond, and the next attempt
    // must still wait. Half a failure (one half-life later) is where the slowdown ends.
    if (score < 0.5) return 0;
    return Math.min(this.maxDelayMs, Math.round(this.baseDelayMs * 2 ** (score - 1)));
  }

  /** How long to wait before checking credentials of `user` from `ip`. */
  async delayFor(user: string, ip: string): Promise<number> {
    const scores = await this.store.getScores([userKey(user), addressKey(ip)]);
    return Math.max(this.delayOf(this.decayed(scores.get(userKey(user)))), this.delayOf(this.decayed(scores.get(addressKey(ip)))));
  }

  /** Takes a check slot for `user` from `ip`, or says when to come back. */
  async enter(user: string, ip: string): Promise<LoginGate> {
    const slots = [
      ...(this.perUser > 0 ? [{ key: userKey(user), limit: this.perUser }] : []),
      ...(this.perAddress > 0 ? [{ key: addressKey(ip), limit: this.perAddress }] : []),
    ];
    if (slots.length === 0) return { ok: true, release: async () => undefined };
    const grant = await this.store.acquire(slots, SLOT_TTL_MS);
    if (grant.ok) return grant;
    // The next slot frees when a running check ends: at most the current delay plus a check.
    const retryAfterSeconds = Math.max(1, Math.ceil((await this.delayFor(user, ip)) / 1000) + 1);
    return { ok: false, retryAfterSeconds };
  }

  /** Records a failure; returns the user's failure score (for the log). */
  async recordFailure(user: string, ip: string): Promise<number> {
    const now = this.now();
    // A score below 1/1000 after ten half-lives is as good as forgotten.
    const forgetAt = now + this.halfLifeMs * 10;
    const keys = [userKey(user), addressKey(ip)];
    const scores = await this.store.getScores(keys);
    const next = keys.map((key) => ({ key, score: { value: this.decayed(scores.get(key)) + 1, at: now }, forgetAt }));
    await this.store.putScores(next);
    return next[0]!.score.value;
  }

  async recordSuccess(user: string): Promise<void> {
    await this.store.deleteScore(userKey(user));
  }
}
