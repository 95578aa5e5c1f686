import { Writable } from 'node:stream';
import { createLogger } from '@wharf/core';
import type { Logger } from '@wharf/sdk';

/**
 * Log lines a test can read back: the kernel's own pino logger (JSON, no secret scrubbing, so a
 * plugin has to keep its secrets out of its lines by itself) writing into memory.
 */

/**
 * What {@link captureLogs} returns.
 * @since 0.1.0
 */
export interface CapturedLogs {
  /** A logger writing here; give it to code under test, or `stream` to a kernel. */
  readonly logger: Logger;
  /** The destination; pass it as `logDestination` to {@link createTestKernel} or {@link startTestRegistry}. */
  readonly stream: Writable;
  /** Everything written so far. */
  text(): string;
  /** Each line written so far, as written. */
  lines(): string[];
  /** Each JSON line, parsed. */
  records(): Record<string, unknown>[];
  /** The records at one level. */
  at(level: 'error' | 'warn' | 'info' | 'debug' | 'trace'): Record<string, unknown>[];
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 } as const;

/**
 * A logger (at `trace` unless told) and a stream that keep every line in memory.
 * @example
 * const logs = captureLogs();
 * await startTestRegistry({ config: { log: { level: 'debug' } }, logDestination: logs.stream });
 * assert.ok(!logs.text().includes(password));
 * @since 0.1.0
 */
export function captureLogs(options: { readonly level?: keyof typeof LEVELS; readonly bindings?: Record<string, unknown> } = {}): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const root = createLogger({ level: options.level ?? 'trace', format: 'json', destination: stream });
  const logger = options.bindings ? root.child(options.bindings) : root;
  const text = (): string => chunks.join('');
  const lines = (): string[] => text().split('\n').filter((line) => line.length > 0);
  const records = (): Record<string, unknown>[] =>
    lines()
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, stream, text, lines, records, at: (level) => records().filter((r) => r['level'] === LEVELS[level]) };
}
