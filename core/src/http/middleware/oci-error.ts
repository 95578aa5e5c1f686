import { BlobNotFoundError, UploadNotFoundError, isRegistryError, type OciErrorCode } from '@wharf/sdk';

/**
 * Maps anything thrown while serving a request to an OCI error response. Registry errors keep
 * their code and status; client errors from koa or body parsers (status < 500) become the OCI
 * code for their status, never a 500; a storage driver's "not found" is the OCI "unknown" of
 * what was asked for (404); everything else is `UNKNOWN` 500 without internals.
 */

export interface OciErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** True when the error is the server's fault and must be logged with its stack. */
  readonly internal: boolean;
}

const BY_STATUS: Readonly<Record<number, OciErrorCode>> = {
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  404: 'NAME_UNKNOWN',
  405: 'UNSUPPORTED',
  411: 'SIZE_INVALID',
  413: 'SIZE_INVALID',
  416: 'RANGE_INVALID',
  429: 'TOOMANYREQUESTS',
};

function body(code: OciErrorCode, message: string, detail: unknown): string {
  const entry: Record<string, unknown> = { code, message };
  if (detail !== undefined) entry.detail = detail;
  return JSON.stringify({ errors: [entry] });
}

interface HttpErrorLike {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
  headers?: unknown;
}

/** A driver's missing upload or blob; by name too, for a driver built against another copy of the SDK. */
function storageNotFound(err: unknown): OciErrorCode | undefined {
  if (err instanceof UploadNotFoundError || (err as Error | undefined)?.name === 'UploadNotFoundError') return 'BLOB_UPLOAD_UNKNOWN';
  if (err instanceof BlobNotFoundError || (err as Error | undefined)?.name === 'BlobNotFoundError') return 'BLOB_UNKNOWN';
  return undefined;
}

export function ociErrorResponse(err: unknown): OciErrorResponse {
  if (isRegistryError(err)) {
    return { status: err.status, headers: { ...err.headers }, body: body(err.code, err.message, err.detail), internal: err.status >= 500 };
  }
  // Node's HTTP parser refused the request (a broken body, bytes that are not HTTP): the client's fault.
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('HPE_')) {
    return { status: 400, headers: {}, body: body('UNKNOWN', 'malformed HTTP request', undefined), internal: false };
  }
  const missing = storageNotFound(err);
  if (missing) return { status: 404, headers: {}, body: body(missing, 'not found in storage', undefined), internal: false };
  const e = (typeof err === 'object' && err !== null ? err : {}) as HttpErrorLike;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = BY_STATUS[status] ?? 'UNKNOWN';
    const message = e.expose !== false && typeof e.message === 'string' && e.message ? e.message : 'bad request';
    const headers: Record<string, string> = {};
    if (typeof e.headers === 'object' && e.headers !== null) {
      for (const [k, v] of Object.entries(e.headers as Record<string, unknown>)) {
        if (typeof v === 'string' && !/^content-(type|length)$/i.test(k)) headers[k] = v;
      }
    }
    return { status, headers, body: body(code, message, undefined), internal: false };
  }
  return { status: 500, headers: {}, body: body('UNKNOWN', 'internal server error', undefined), internal: true };
}
