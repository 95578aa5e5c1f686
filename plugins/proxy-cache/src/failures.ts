import { isReplicationTargetError, RegistryError } from '@wharf/sdk';

/**
 * How an upstream failed, in the words the client and the log get: a 404 (the content is not
 * there: never served stale), a 429, or anything else that makes the upstream unusable now
 * (down, 5xx, timeout, refused credentials), which a cached copy answers.
 */
export interface UpstreamFailure {
  readonly upstream: string;
  readonly kind: 'not-found' | 'throttled' | 'unavailable';
  /** `429`, `503`, `unreachable (ECONNREFUSED)`, `timeout after 15 s`: what the upstream answered. */
  readonly answer: string;
  /** The full message (endpoint, operation, the registry's error text), for the log. */
  readonly message: string;
}

/** An upstream call that took longer than the configured timeout. */
export class UpstreamTimeout extends Error {
  constructor(readonly seconds: number) {
    super(`timeout after ${seconds} s`);
    this.name = 'UpstreamTimeout';
  }
}

/** Runs `work`, failing with {@link UpstreamTimeout} after `seconds` (the work is left to finish on its own). */
export async function withTimeout<T>(seconds: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamTimeout(seconds)), seconds * 1000);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const printable = (text: string): string => text.replace(/["\\\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 200);

export function classify(upstream: string, err: unknown): UpstreamFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UpstreamTimeout) return { upstream, kind: 'unavailable', answer: err.message, message };
  if (isReplicationTargetError(err)) {
    const status = err.details.status;
    if (err.code === 'NOT_FOUND' || status === 404) return { upstream, kind: 'not-found', answer: '404', message };
    if (status === 429) return { upstream, kind: 'throttled', answer: '429', message };
    if (status !== undefined) return { upstream, kind: 'unavailable', answer: String(status), message };
    const cause = /\(([A-Z_]+)\)/.exec(message)?.[1];
    if (err.code === 'UNREACHABLE') return { upstream, kind: 'unavailable', answer: `unreachable${cause ? ` (${cause})` : ''}`, message };
    return { upstream, kind: 'unavailable', answer: printable(message), message };
  }
  const code = (err as { code?: unknown } | undefined)?.code;
  return { upstream, kind: 'unavailable', answer: typeof code === 'string' ? `error (${code})` : printable(message), message };
}

/** A 404 for every upstream tried. */
export function notFound(upstream: string, what: string): UpstreamFailure {
  return { upstream, kind: 'not-found', answer: '404', message: `${what} not found` };
}

/** The `Warning` header of a stale answer (RFC 7234 warn-code 110, "Response is Stale"). */
export function staleWarning(failure: UpstreamFailure): string {
  return `110 - "stale: ${printable(failure.upstream)} answered ${printable(failure.answer)}"`;
}

/**
 * The client's error when nothing cached can answer: OCI codes, never a 500, naming the upstream
 * and its answer. `unknown` is the code of a 404 (`MANIFEST_UNKNOWN` or `BLOB_UNKNOWN`).
 */
export function clientError(failure: UpstreamFailure, unknown: 'MANIFEST_UNKNOWN' | 'BLOB_UNKNOWN', what: string): RegistryError {
  const message = `proxy cache: upstream ${failure.upstream} answered ${failure.answer} for ${what}`;
  const detail = { upstream: failure.upstream, answer: failure.answer };
  if (failure.kind === 'not-found') return new RegistryError(unknown, message, { detail });
  if (failure.kind === 'throttled') return new RegistryError('TOOMANYREQUESTS', message, { detail, headers: { 'Retry-After': '60' } });
  // 502 Bad Gateway: the upstream answered badly; 503: it could not be reached (or in time).
  const status = /^\d+$/.test(failure.answer) ? 502 : 503;
  return new RegistryError('UNKNOWN', message, { status, detail });
}
