import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/**
 * The request or job a piece of work belongs to, carried across awaits. The root logger adds
 * these fields to every line written inside the work, so a plugin's own `ctx.logger` (called
 * from a hook during a request, or from a job handler) carries the same `reqId` or `jobId` as
 * the kernel's lines, without anyone passing a logger along.
 */

export type LogContextFields = Readonly<Record<string, string | number>>;

/** Also given every finished line (redacted and scrubbed, as written) written inside the work. */
export type LineKeeper = (line: string) => void;

interface LogContext {
  readonly fields: LogContextFields;
  readonly keep: LineKeeper | undefined;
}

const storage = new AsyncLocalStorage<LogContext>();

/**
 * Runs `fn` with `fields` added to every log line written inside it. The innermost unit of work
 * wins: a job run from a request's wake-up carries its job id, not the request's id. With
 * `keep`, every line written inside it (by any logger of the root logger) is also handed to
 * `keep`, after redaction: that is how a job's lines end up in its own log.
 */
export function withLogContext<T>(fields: LogContextFields, fn: () => T, keep?: LineKeeper): T {
  return storage.run({ fields, keep }, fn);
}

/** Runs `fn` outside any log context: a keeper's own trouble must not be kept again. */
export function outsideLogContext<T>(fn: () => T): T {
  return storage.exit(fn);
}

/** The root logger's `streamWrite` tail: hands the line to the current context's keeper. */
export function keepInLogContext(line: string): void {
  const keep = storage.getStore()?.keep;
  if (keep) keep(line);
}

/**
 * pino's `mixin`: the current context's fields that the logger's own bindings do not already
 * carry (a request's child logger is bound to its `reqId`; writing it twice would make the JSON
 * line hold the key twice).
 */
export function logContextMixin(_merge: object, _level: number, logger: Logger): object {
  const fields = storage.getStore()?.fields;
  if (!fields) return {};
  const bound = logger.bindings();
  let out: Record<string, string | number> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (k in bound) continue;
    (out ??= {})[k] = v;
  }
  return out ?? {};
}
