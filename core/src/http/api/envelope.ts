import { API_ERRORS, ApiError, isApiError, isRegistryError, type ApiErrorCode } from '@wharf/sdk';

/**
 * The management API's one error shape: `{"errors":[{"code":"NOT_FOUND","message":"..."}]}`
 * with the code's status. Client errors from anywhere (an `ApiError`, a `RegistryError` a hook
 * threw, koa's http errors) keep their status and message; everything else is a 500 that names
 * only the request id, so internals never reach the client.
 */

export interface EnvelopeResponse {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The server's fault: log it with the stack. */
  readonly internal: boolean;
}

const CODE_BY_STATUS: ReadonlyMap<number, ApiErrorCode> = new Map(
  (Object.entries(API_ERRORS) as [ApiErrorCode, number][]).map(([code, status]) => [status, code]),
);

/** The envelope body for one error. */
export function envelopeBody(code: ApiErrorCode, message: string): string {
  return JSON.stringify({ errors: [{ code, message }] });
}

interface HttpErrorLike {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
}

/** A 4xx of another kind as the API's code for its status (`BAD_REQUEST` when it has none). */
function clientCode(status: number): ApiErrorCode {
  return CODE_BY_STATUS.get(status) ?? 'BAD_REQUEST';
}

/**
 * Maps anything thrown while serving an API request. `challenge` is the `WWW-Authenticate`
 * value a 401 carries (none when `undefined`).
 */
export function envelopeOf(err: unknown, requestId: string, challenge: string | undefined): EnvelopeResponse {
  let status: number;
  let code: ApiErrorCode;
  let message: string;
  let internal = false;
  if (isApiError(err) && (API_ERRORS as Record<string, number>)[err.code] !== undefined) {
    code = err.code;
    status = API_ERRORS[code];
    message = err.message;
    internal = status >= 500;
    if (internal) message = internalMessage(requestId);
  } else if (isRegistryError(err) && err.status < 500) {
    status = err.status;
    code = clientCode(status);
    message = err.message;
  } else {
    const e = (typeof err === 'object' && err !== null ? err : {}) as HttpErrorLike;
    const raw = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
    if (raw >= 400 && raw < 500 && !isApiError(err)) {
      status = raw;
      code = clientCode(raw);
      message = e.expose !== false && typeof e.message === 'string' && e.message ? e.message : 'bad request';
    } else {
      status = 500;
      code = 'INTERNAL_SERVER_ERROR';
      message = internalMessage(requestId);
      internal = true;
    }
  }
  const headers: Record<string, string> = {};
  if (status === 401 && challenge !== undefined) headers['WWW-Authenticate'] = challenge;
  // A login refused for too many concurrent attempts says when to come back.
  const retryAfter = isRegistryError(err) ? err.headers['Retry-After'] : undefined;
  if (status === 429 && retryAfter !== undefined) headers['Retry-After'] = retryAfter;
  return { status, code, body: envelopeBody(code, message), headers, internal };
}

function internalMessage(requestId: string): string {
  return `internal server error; quote request id ${requestId} when reporting it`;
}

/** Shorthand for the errors the router raises itself. */
export const apiError = (code: ApiErrorCode, message: string): ApiError => new ApiError(code, message);
