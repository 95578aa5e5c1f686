import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { JobsSettings } from '../../config/types.js';

/** Helpers shared by the jobs tests. */

export const REDIS_URL = process.env['WHARF_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Quiet unless WHARF_TEST_LOG=1 (then debug lines on stderr help when a test fails). */
export const testLogger = pino({ level: process.env['WHARF_TEST_LOG'] === '1' ? 'debug' : 'silent' }, pino.destination(2));

/** Fast settings: short lease and poll so tests take fractions of a second. */
export function testSettings(overrides: Partial<JobsSettings> = {}): JobsSettings {
  return {
    backend: 'embedded',
    redis: { url: REDIS_URL, prefix: 'wharf-test' },
    leaseSeconds: 2,
    pollIntervalMs: 50,
    stopTimeoutMs: 2000,
    history: { keep: 1000, maxAgeDays: 14 },
    ...overrides,
  };
}

/** Polls `check` until it returns something other than undefined/false. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A unique Redis key prefix for one test. */
export function uniquePrefix(): string {
  return `wharf-test-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Deletes every key under `prefix`. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** A promise with its resolve function, for handlers the test releases. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves when `signal` aborts, rejecting with its reason (what a well-behaved handler does). */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
