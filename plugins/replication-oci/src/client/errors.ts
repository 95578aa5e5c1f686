import { ReplicationTargetError, type ReplicationTargetErrorCode } from '@wharf/sdk';

/**
 * Registry answers and network failures as {@link ReplicationTargetError}s whose message names
 * the endpoint and the operation. Messages carry the registry's OCI code and text, never a
 * header or URL query of ours (they could hold credentials, tokens or upload state).
 */

/** Where an error happened: the endpoint (name and origin) and the operation. */
export interface ErrorContext {
  readonly endpoint: string;
  readonly operation: string;
}

/** The first error of an OCI error body (`{"errors":[{"code","message"}]}`), if the body is one. */
export function parseOciError(body: string): { code: string; message: string } | undefined {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = Array.isArray(parsed.errors) ? parsed.errors[0] : undefined;
    if (!first || typeof first.code !== 'string') return undefined;
    return { code: first.code, message: typeof first.message === 'string' ? first.message : '' };
  } catch {
    return undefined;
  }
}

function codeFor(status: number, ociCode: string | undefined): ReplicationTargetErrorCode {
  if (ociCode === 'UNSUPPORTED' || status === 405) return 'UNSUPPORTED';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429 || status >= 500) return 'REMOTE_ERROR';
  if (status >= 400) return 'INVALID';
  return 'REMOTE_ERROR';
}

const printable = (text: string, max = 200): string => text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, max);

export function formatContext(ctx: ErrorContext): string {
  return `${ctx.endpoint}: ${ctx.operation}`;
}

/**
 * The error of an unexpected answer. `insufficientScope`: the registry refused a token we got
 * for exactly what it asked, so the account lacks the right (a refusal, not a login problem).
 */
export function responseError(ctx: ErrorContext, status: number, body: string, options: { insufficientScope?: boolean } = {}): ReplicationTargetError {
  const oci = parseOciError(body);
  let code = codeFor(status, oci?.code);
  if (status === 401 && options.insufficientScope) code = 'DENIED';
  const what = oci ? `${oci.code}${oci.message ? `: ${printable(oci.message)}` : ''}` : printable(body, 120) || 'no error body';
  // 3xx and 1xx answers we cannot act upon are protocol problems, not worth retrying.
  const retryable = status === 429 || status >= 500;
  return new ReplicationTargetError(code, `${formatContext(ctx)} failed: HTTP ${status} ${what}`, {
    status,
    ...(oci ? { ociCode: oci.code } : {}),
    retryable,
  });
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

/** TLS verification failures: retrying does not help until someone fixes the certificate or the CA. */
const TLS_CODE = /^(CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_(GET|VERIFY)_|ERR_TLS_|ERR_SSL_)/;

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/**
 * A failure below HTTP (connect, TLS, timeout, reset) as UNREACHABLE. Anything else passes
 * through unchanged: an abort, or the error of a request body (the source registry failing
 * mid-stream must keep its own code).
 */
export function networkError(ctx: ErrorContext, err: unknown): unknown {
  const code = errorCode(err);
  if (code === undefined || err instanceof ReplicationTargetError) return err;
  const tls = TLS_CODE.test(code);
  if (!tls && !UNREACHABLE_CODES.has(code)) return err;
  const reason = tls ? `TLS verification failed (${code}); set the endpoint's CA certificate or mark it insecure` : `cannot reach the registry (${code})`;
  return new ReplicationTargetError('UNREACHABLE', `${formatContext(ctx)} failed: ${reason}`, { retryable: !tls }, { cause: err });
}

/** A protocol violation by the registry (a missing header, a digest that does not match). */
export function protocolError(ctx: ErrorContext, what: string, code: ReplicationTargetErrorCode = 'INVALID'): ReplicationTargetError {
  return new ReplicationTargetError(code, `${formatContext(ctx)} failed: ${what}`, { retryable: false });
}
