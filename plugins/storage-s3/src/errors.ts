import { KernelError, RegistryError } from '@wharf/sdk';

/** What went wrong with a request to the object store, in operator terms. */
export type S3Problem =
  | 'credentials'
  | 'no-credentials'
  | 'denied'
  | 'no-bucket'
  | 'not-found'
  | 'unreachable'
  | 'timeout'
  | 'throttled'
  | 'server'
  | 'not-implemented'
  | 'other';

export interface S3Failure {
  readonly problem: S3Problem;
  /** The S3 error code (`NoSuchBucket`), network code (`ECONNREFUSED`) or HTTP status. */
  readonly code: string;
  readonly status: number | undefined;
}

const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidSecurity',
  'AuthorizationHeaderMalformed',
]);
const THROTTLE_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'RequestThrottled']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);

/** Classifies an error thrown by the AWS SDK (or by the network under it). */
export function classifyS3Error(err: unknown): S3Failure {
  const e = (err ?? {}) as { name?: unknown; Code?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const code = [e.Code, e.code, e.name].find((c): c is string => typeof c === 'string' && c !== '' && c !== 'Error' && c !== 'Unknown') ?? (status ? String(status) : 'unknown');
  const problem = ((): S3Problem => {
    if (e.name === 'CredentialsProviderError') return 'no-credentials';
    if (CREDENTIAL_CODES.has(code)) return 'credentials';
    if (code === 'NoSuchBucket') return 'no-bucket';
    if (code === 'NoSuchKey' || code === 'NotFound' || code === 'NoSuchUpload') return 'not-found';
    if (code === 'AccessDenied' || code === 'AllAccessDisabled' || code === 'AccountProblem' || status === 403) return 'denied';
    if (THROTTLE_CODES.has(code) || status === 429) return 'throttled';
    if (code === 'NotImplemented' || code === 'MethodNotAllowed' || status === 501 || status === 405) return 'not-implemented';
    if (NETWORK_CODES.has(code)) return 'unreachable';
    if (TIMEOUT_CODES.has(code)) return 'timeout';
    if (status !== undefined && status >= 500) return 'server';
    return 'other';
  })();
  return { problem, code, status };
}

/** Where requests go, for messages: `bucket "b" at http://127.0.0.1:4569`. */
export interface S3Target {
  readonly bucket: string;
  readonly endpoint: string;
}

const ADVICE: Record<S3Problem, (t: S3Target) => string> = {
  credentials: () => 'the store rejected the credentials: check accessKeyId and secretAccessKey (or the AWS credential chain)',
  'no-credentials': () =>
    'no credentials found: set accessKeyId and secretAccessKey, or provide them through the AWS credential chain (AWS_ACCESS_KEY_ID, a profile, a role)',
  denied: () => 'access denied: the credentials lack a permission Wharf needs (see the plugin README for the IAM policy)',
  'no-bucket': (t) => `bucket "${t.bucket}" does not exist (Wharf never creates buckets)`,
  'not-found': () => 'not found',
  unreachable: (t) => `cannot reach the endpoint ${t.endpoint}`,
  timeout: (t) => `the endpoint ${t.endpoint} did not answer in time`,
  throttled: () => 'the store is throttling requests (retries exhausted)',
  server: () => 'the store failed with a server error (retries exhausted)',
  'not-implemented': () => 'the store does not implement this call',
  other: () => 'the request failed',
};

/** A sentence explaining `err`, e.g. `bucket "b" does not exist (NoSuchBucket)`. */
export function explainS3Error(err: unknown, target: S3Target): string {
  const failure = classifyS3Error(err);
  const detail = failure.problem === 'other' && err instanceof Error && err.message ? `: ${err.message}` : '';
  return `${ADVICE[failure.problem](target)}${detail} (${failure.code})`;
}

/**
 * The error a driver method throws for a failed request: a `TOOMANYREQUESTS` registry error
 * when the store throttles beyond the retries (clients know to back off), else a
 * `REG_ERR_STORAGE` kernel error saying what failed and why (logged; the client sees a 500).
 */
export function s3RequestError(err: unknown, target: S3Target, action: string): Error {
  if (err instanceof KernelError || err instanceof RegistryError) return err;
  const failure = classifyS3Error(err);
  if (failure.problem === 'throttled') {
    return new RegistryError('TOOMANYREQUESTS', 'the blob store is busy, retry later', { headers: { 'Retry-After': '5' } });
  }
  return new KernelError('REG_ERR_STORAGE', `s3 storage: ${action} in bucket "${target.bucket}" failed: ${explainS3Error(err, target)}`, {
    plugin: 's3',
    cause: err,
  });
}
