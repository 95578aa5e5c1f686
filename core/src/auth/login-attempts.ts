import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { toNumber } from '../metadata/sql.js';
import { BoundedCache } from './bounded-cache.js';

/**
 * Where the failed-login counters and the in-flight login slots live. In memory for a kernel
 * without a database (tests, tools); in the metadata database otherwise, so that every node
 * sharing it sees the same counters: a guesser spread over many nodes is slowed and limited as
 * one. Keys are hashed before they are stored (no user names or addresses at rest).
 */

/** A decaying failure score: `value` as of `at` (ms since the epoch). */
export interface Score {
  readonly value: number;
  readonly at: number;
}

export type SlotGrant = { readonly ok: true; release(): Promise<void> } | { readonly ok: false; readonly key: string };

export interface LoginAttemptStore {
  getScores(keys: readonly string[]): Promise<Map<string, Score>>;
  /** Stores scores; each may be forgotten after its `forgetAt`. */
  putScores(entries: readonly { key: string; score: Score; forgetAt: number }[]): Promise<void>;
  deleteScore(key: string): Promise<void>;
  /**
   * Takes an in-flight slot under each key, unless a key already holds its `limit` (then
   * nothing is taken). A slot a crashed node never released expires after `ttlMs`.
   */
  acquire(slots: readonly { key: string; limit: number }[], ttlMs: number): Promise<SlotGrant>;
}

export class MemoryLoginAttempts implements LoginAttemptStore {
  private readonly scores: BoundedCache<string, Score>;
  private readonly inflight = new Map<string, number>();

  constructor(maxEntries = 10_000, private readonly now: () => number = Date.now) {
    this.scores = new BoundedCache(maxEntries, now);
  }

  async getScores(keys: readonly string[]): Promise<Map<string, Score>> {
    const out = new Map<string, Score>();
    for (const key of keys) {
      const s = this.scores.get(key);
      if (s) out.set(key, s);
    }
    return out;
  }

  async putScores(entries: readonly { key: string; score: Score; forgetAt: number }[]): Promise<void> {
    for (const e of entries) this.scores.set(e.key, e.score, e.forgetAt);
  }

  async deleteScore(key: string): Promise<void> {
    this.scores.delete(key);
  }

  async acquire(slots: readonly { key: string; limit: number }[]): Promise<SlotGrant> {
    const full = slots.find((s) => (this.inflight.get(s.key) ?? 0) >= s.limit);
    if (full) return { ok: false, key: full.key };
    for (const s of slots) this.inflight.set(s.key, (this.inflight.get(s.key) ?? 0) + 1);
    let released = false;
    return {
      ok: true,
      release: async () => {
        if (released) return;
        released = true;
        for (const s of slots) {
          const left = (this.inflight.get(s.key) ?? 1) - 1;
          if (left <= 0) this.inflight.delete(s.key);
          else this.inflight.set(s.key, left);
        }
      },
    };
  }
}

export const LOGIN_SCORES_TABLE = 'login_failure_scores';
export const LOGIN_SLOTS_TABLE = 'login_slots';

const hashKey = (key: string): string => createHash('sha256').update(key).digest('base64url');

/** The shared store: two small tables of the metadata database (migration `006_login_attempts`). */
export class KnexLoginAttempts implements LoginAttemptStore {
  constructor(
    private readonly knex: () => Knex,
    private readonly now: () => number = Date.now,
  ) {}

  async getScores(keys: readonly string[]): Promise<Map<string, Score>> {
    const byHash = new Map(keys.map((k) => [hashKey(k), k]));
    const rows = (await this.knex()(LOGIN_SCORES_TABLE).whereIn('key', [...byHash.keys()]).select('key', 'score', 'at')) as Record<string, unknown>[];
    const out = new Map<string, Score>();
    for (const r of rows) {
      const key = byHash.get(String(r.key));
      if (key !== undefined) out.set(key, { value: toNumber(r.score), at: toNumber(r.at) });
    }
    return out;
  }

  async putScores(entries: readonly { key: string; score: Score; forgetAt: number }[]): Promise<void> {
    const knex = this.knex();
    for (const e of entries) {
      await knex(LOGIN_SCORES_TABLE)
        .insert({ key: hashKey(e.key), score: e.score.value, at: e.score.at, forget_at: e.forgetAt })
        .onConflict('key')
        .merge(['score', 'at', 'forget_at']);
    }
    // Forgotten scores go now and then, not on every write.
    if (Math.random() < 0.05) await knex(LOGIN_SCORES_TABLE).where('forget_at', '<', this.now()).delete();
  }

  async deleteScore(key: string): Promise<void> {
    await this.knex()(LOGIN_SCORES_TABLE).where({ key: hashKey(key) }).delete();
  }

  /**
   * Insert first, then count the live slots of each key up to our own: two nodes racing both
   * see each other's rows, so together they never admit more than the limit (at worst fewer).
   */
  async acquire(slots: readonly { key: string; limit: number }[], ttlMs: number): Promise<SlotGrant> {
    const knex = this.knex();
    const now = this.now();
    const ids: number[] = [];
    const release = async () => {
      if (ids.length > 0) await knex(LOGIN_SLOTS_TABLE).whereIn('id', ids.splice(0)).delete();
    };
    try {
      for (const s of slots) {
        const key = hashKey(s.key);
        const [inserted] = (await knex(LOGIN_SLOTS_TABLE).insert({ key, expires_at: now + ttlMs }, ['id'])) as unknown[];
        const id = toNumber(typeof inserted === 'object' && inserted !== null ? (inserted as { id: unknown }).id : inserted);
        ids.push(id);
        const row = (await knex(LOGIN_SLOTS_TABLE).where({ key }).andWhere('expires_at', '>', now).andWhere('id', '<=', id).count({ n: '*' }).first()) as
          | { n: unknown }
          | undefined;
        if (toNumber(row?.n ?? 0) > s.limit) {
          await release();
          return { ok: false, key: s.key };
        }
      }
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }
    if (Math.random() < 0.05) await knex(LOGIN_SLOTS_TABLE).where('expires_at', '<', now).delete();
    return { ok: true, release };
  }
}
