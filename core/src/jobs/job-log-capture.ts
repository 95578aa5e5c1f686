import type { Logger } from 'pino';
import { outsideLogContext } from '../logging/log-context.js';
import { clip, MAX_LOG_MESSAGE } from './job-types.js';

/**
 * Keeps the log lines a job attempt writes (through its `logger`, the plugin's `ctx.logger`, or
 * any logger called inside the handler) in the job's own log, next to the lines of `ctx.log`:
 * what the node writes at its log level, already redacted, as `LEVEL message {fields}`. At most
 * `maxLines` per attempt, then one line saying how many more were not kept; the job history's
 * bounds (count per type, age) delete them with the job. Appends go one after another, so the
 * log keeps the order they were written in; `flush` waits for them.
 */

/** `jobs.history.maxLogLines` when the settings do not say (the schema's default). */
export const DEFAULT_MAX_LOG_LINES = 1000;

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, or that the job log already says. */
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'jobId', 'jobType']);

export interface JobLogCapture {
  keep(line: string): void;
  /** Resolves once every kept line is appended. */
  flush(): Promise<void>;
}

/** The job-log form of one JSON log line. */
export function jobLogMessage(line: string): string {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return clip(line.trim(), MAX_LOG_MESSAGE);
  }
  const level = LEVELS[Number(parsed.level)] ?? String(parsed.level);
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) if (!OMIT.has(k) && !(k === 'component' && v === 'jobs')) rest[k] = v;
  const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  return clip(`${level} ${String(parsed.msg ?? '')}${fields}`, MAX_LOG_MESSAGE);
}

export function jobLogCapture(append: (message: string) => Promise<void>, maxLines: number, logger: Logger): JobLogCapture {
  let kept = 0;
  let dropped = 0;
  let failed = false;
  let chain: Promise<void> = Promise.resolve();
  const write = (message: string) => {
    chain = chain.then(() =>
      append(message).catch((err: unknown) => {
        if (failed) return;
        failed = true;
        // Outside the job's context: this line must not be kept (and fail) again.
        outsideLogContext(() => logger.warn({ err }, 'could not keep a line in the job log'));
      }),
    );
  };
  return {
    keep(line) {
      if (kept >= maxLines) {
        dropped++;
        return;
      }
      kept++;
      write(jobLogMessage(line));
    },
    async flush() {
      if (dropped > 0) {
        write(`WARN ${dropped} more log lines of this attempt were not kept (jobs.history.maxLogLines: ${maxLines})`);
        dropped = 0;
      }
      await chain;
    },
  };
}
