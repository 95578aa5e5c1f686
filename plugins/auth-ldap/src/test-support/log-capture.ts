import { Writable } from 'node:stream';
import { createLogger } from '@wharf/core';
import type { Logger } from '@wharf/sdk';

/** A real pino logger (the kernel's, at trace level, no secret scrubbing) that keeps every line. */
export interface LogCapture {
  readonly logger: Logger;
  /** Raw JSON lines. */
  lines(): string[];
  /** Parsed records. */
  records(): Record<string, unknown>[];
  /** Records at a level (`error` = 50, `warn` = 40). */
  at(level: 'error' | 'warn' | 'info' | 'debug'): Record<string, unknown>[];
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export function captureLogs(): LogCapture {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  // No `secrets`: the plugin must keep passwords out of its lines on its own.
  const logger = createLogger({ level: 'trace', format: 'json', destination: stream }).child({ plugin: 'ldap' });
  const lines = (): string[] => chunks.join('').split('\n').filter((l) => l.length > 0);
  const records = (): Record<string, unknown>[] => lines().map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, records, at: (level) => records().filter((r) => r.level === LEVELS[level]) };
}
