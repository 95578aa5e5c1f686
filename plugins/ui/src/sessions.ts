import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DatabaseService, Principal } from '@wharf/sdk';
import { SESSIONS_TABLE } from './migrations.js';

/**
 * Browser sessions, in the database so every node sees a logout at once. The cookie holds 32
 * random bytes; only their SHA-256 is stored. The CSRF token is an HMAC of the cookie value:
 * the page cannot read the HttpOnly cookie, a cross-site page cannot read our answers, so only
 * our own page, told the token by `GET /_ext/ui/session`, can send it back.
 * A session ends at its absolute expiry, after `idleMs` without use, or when deleted (logout).
 */

export interface SessionTimes {
  readonly lifetimeMs: number;
  readonly idleMs: number;
  readonly now?: () => number;
}

export interface NewSession {
  /** The cookie value (base64url). */
  readonly id: string;
  /** The CSRF token the page sends back in `X-CSRF-Token` on every state-changing request. */
  readonly csrf: string;
  readonly expiresAt: number;
}

export interface LiveSession {
  readonly idHash: string;
  readonly principal: Principal;
  /** The CSRF token that goes with this session. */
  readonly csrf: string;
  readonly expiresAt: number;
}

interface Row {
  id_hash: string;
  principal: string;
  last_seen_at: number | string;
  expires_at: number | string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const token = () => randomBytes(32).toString('base64url');
const csrfOf = (id: string) => createHmac('sha256', id).update('wharf-ui-csrf').digest('base64url');
/** Touching `last_seen_at` on every request would write per click; once a minute is enough. */
const TOUCH_EVERY_MS = 60_000;

export class SessionStore {
  private readonly now: () => number;

  constructor(
    private readonly database: DatabaseService,
    private readonly times: SessionTimes,
  ) {
    this.now = times.now ?? Date.now;
  }

  async create(principal: Principal): Promise<NewSession> {
    const id = token();
    const csrf = csrfOf(id);
    const now = this.now();
    const expiresAt = now + this.times.lifetimeMs;
    await this.database.knex(SESSIONS_TABLE).insert({
      id_hash: sha256(id),
      subject: principal.subject,
      principal: JSON.stringify(principal),
      created_at: now,
      last_seen_at: now,
      expires_at: expiresAt,
    });
    return { id, csrf, expiresAt };
  }

  /** The live session of a cookie value, or `undefined` (unknown, expired or idle; expired rows are removed). */
  async find(id: string): Promise<LiveSession | undefined> {
    const idHash = sha256(id);
    const row = (await this.database.knex(SESSIONS_TABLE).where({ id_hash: idHash }).first()) as Row | undefined;
    if (!row) return undefined;
    const now = this.now();
    const lastSeen = Number(row.last_seen_at);
    if (Number(row.expires_at) <= now || lastSeen + this.times.idleMs <= now) {
      await this.remove(id);
      return undefined;
    }
    if (now - lastSeen >= TOUCH_EVERY_MS) await this.database.knex(SESSIONS_TABLE).where({ id_hash: idHash }).update({ last_seen_at: now });
    return { idHash, principal: JSON.parse(row.principal) as Principal, csrf: csrfOf(id), expiresAt: Number(row.expires_at) };
  }

  /** Whether `csrf` is the session's token (constant time). */
  static csrfMatches(session: LiveSession, csrf: string | undefined): boolean {
    if (!csrf) return false;
    return timingSafeEqual(Buffer.from(sha256(csrf), 'hex'), Buffer.from(sha256(session.csrf), 'hex'));
  }

  async remove(id: string): Promise<void> {
    await this.database.knex(SESSIONS_TABLE).where({ id_hash: sha256(id) }).delete();
  }

  async removeHash(idHash: string): Promise<void> {
    await this.database.knex(SESSIONS_TABLE).where({ id_hash: idHash }).delete();
  }

  /** Deletes expired and idle rows (a session left idle is never found again); returns how many. */
  async sweep(): Promise<number> {
    const now = this.now();
    return this.database.knex(SESSIONS_TABLE).where('expires_at', '<=', now).orWhere('last_seen_at', '<=', now - this.times.idleMs).delete();
  }
}
