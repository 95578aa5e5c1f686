import type { LogRecord, LogSink } from '@wharf/sdk';
import prettyModule from 'pino-pretty';

/**
 * The default sink: JSON lines (or pino-pretty text) on stdout, or on the stream the kernel was
 * given (the CLI uses stderr; tests capture). Writes synchronously while the stream keeps up,
 * so a crash loses nothing already logged; when the stream pushes back, `write` waits for
 * `drain` and the runner queues (bounded) meanwhile.
 */

type Prettify = (input: string | object) => string;
const prettyFactory = ((prettyModule as unknown as { prettyFactory?: unknown }).prettyFactory ??
  (prettyModule as unknown as { default: { prettyFactory: unknown } }).default.prettyFactory) as (options: Record<string, unknown>) => Prettify;

export interface StdoutSinkOptions {
  readonly pretty: boolean;
  readonly stream?: NodeJS.WritableStream | { write(chunk: string): unknown } | undefined;
}

export function createStdoutSink(options: StdoutSinkOptions): LogSink {
  const stream = (options.stream ?? process.stdout) as NodeJS.WritableStream;
  const prettify = options.pretty
    ? prettyFactory({
        colorize: options.stream === undefined && process.stdout.isTTY === true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
      })
    : undefined;
  return {
    write(records: readonly LogRecord[]) {
      const text = prettify ? records.map((r) => prettify(r.line)).join('') : records.map((r) => `${r.line}\n`).join('');
      const ok = stream.write(text);
      if (ok !== false || typeof stream.once !== 'function') return;
      return new Promise<void>((resolve) => stream.once('drain', () => resolve()));
    },
  };
}
