import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Database error classification across PostgreSQL (SQLSTATE in `code`), MySQL/MariaDB
 * (`code` like `ER_DUP_ENTRY`, `errno`) and better-sqlite3 (`code` like `SQLITE_BUSY`).
 */

interface DriverError {
  readonly code?: unknown;
  readonly errno?: unknown;
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as DriverError).code;
  return typeof code === 'string' ? code : undefined;
}

/** True for a unique or primary key violation: someone else inserted the same key first. */
export function isUniqueViolation(err: unknown): boolean {
  const code = codeOf(err);
  return (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * True for errors where running the whole transaction again is the right answer: deadlocks,
 * serialization failures, lock timeouts and SQLite's busy database.
 */
export function isTransientConflict(err: unknown): boolean {
  const code = codeOf(err);
  return (
    code === '40001' ||
    code === '40P01' ||
    code === 'ER_LOCK_DEADLOCK' ||
    code === 'ER_LOCK_WAIT_TIMEOUT' ||
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_BUSY_SNAPSHOT' ||
    code === 'SQLITE_LOCKED'
  );
}

/** True when a `create table` lost a race with another node creating the same table. */
export function isTableExists(err: unknown): boolean {
  const code = codeOf(err);
  if (code === '42P07' || code === 'ER_TABLE_EXISTS_ERROR' || code === '23505') return true;
  return err instanceof Error && /already exists/i.test(err.message);
}

export interface RetryOptions {
  /** Total attempts, the first included. */
  readonly attempts: number;
  /** Base delay in ms; doubles on each attempt, with jitter so racing nodes spread out. */
  readonly baseDelayMs: number;
  readonly retryIf: (err: unknown) => boolean;
}

const DEFAULT_RETRY: RetryOptions = {
  attempts: 6,
  baseDelayMs: 10,
  retryIf: (err) => isTransientConflict(err) || isUniqueViolation(err),
};

/**
 * Runs `fn` (a whole transaction) again when it fails on a conflict another writer caused.
 * A retried transaction sees the other writer's committed rows and takes the "exists" path.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: Partial<RetryOptions> = {}): Promise<T> {
  const { attempts, baseDelayMs, retryIf } = { ...DEFAULT_RETRY, ...options };
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !retryIf(err)) throw err;
      const delay = baseDelayMs * 2 ** (attempt - 1);
      await sleep(delay / 2 + Math.random() * delay);
    }
  }
}
