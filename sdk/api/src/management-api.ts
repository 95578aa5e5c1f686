import type { Static, TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { AccessRequest, Principal, RequestInfo } from './principal.js';
import type { ApiSortKey } from './list-sort.js';

/**
 * The management REST API (`/api/v1`): the kernel owns the router, authentication, the error
 * envelope, pagination and the OpenAPI document; plugins contribute operations through
 * `ctx.api.operation(...)`. Every operation declares TypeBox schemas, which validate requests
 * and become the OpenAPI 3.1 document served at `/api/v1/openapi.json`.
 * @see docs/architecture/10-management-api.md
 * @since 0.1.0
 */

/** HTTP methods an operation can answer. */
export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Error codes of the management API's envelope, each with its HTTP status. */
export const API_ERRORS = Object.freeze({
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  /** A request body over the kernel's limit (1 MiB). @since 0.1.0 */
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
} as const);
export type ApiErrorCode = keyof typeof API_ERRORS;

/**
 * A refusal in the management API's terms. The kernel sends it as
 * `{"errors":[{"code":"NOT_FOUND","message":"project foo not found"}]}` with the code's status.
 * @since 0.1.0
 */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERRORS[code];
  }
}

/** True for an {@link ApiError} from any copy of the SDK. */
export function isApiError(err: unknown): err is ApiError {
  return err instanceof Error && err.name === 'ApiError' && typeof (err as { code?: unknown }).code === 'string';
}

/**
 * One `q=` condition. `q=name=~lib,public=true` gives `{ name: { op: 'fuzzy', value: 'lib' },
 * public: { op: 'eq', value: 'true' } }`. Keys are checked against the operation's `filters`.
 */
export interface ApiFilter {
  readonly op: 'eq' | 'fuzzy';
  readonly value: string;
}

/** Pagination, filters and order of a list operation, parsed and bounded by the kernel. */
export interface ApiPageRequest {
  /** 1-based page number. */
  readonly page: number;
  /** Items per page, 1 to 100 (default 10). */
  readonly pageSize: number;
  readonly filters: Readonly<Record<string, ApiFilter>>;
  /**
   * `sort=` keys, checked against the operation's `sorts`; empty for the operation's default
   * order (and on operations without `sorts`). @since 0.2.0
   */
  readonly sort: readonly ApiSortKey[];
}

/** What a list handler returns: one page of items and the total across all pages. */
export interface ApiPage<T> {
  readonly items: readonly T[];
  readonly total: number;
}

/** What a handler sees of a request. */
export interface ApiRequest<P = unknown, Q = unknown, B = unknown> {
  readonly principal: Principal;
  /** Path parameters, validated against `params`. */
  readonly params: P;
  /** Query parameters (without page, page_size and q), validated against `query`. */
  readonly query: Q;
  /** The JSON body, validated against `body`. */
  readonly body: B;
  /** Pagination and `q=` filters (list operations only; defaults elsewhere). */
  readonly page: ApiPageRequest;
  readonly requestId: string;
  /** Facts about the HTTP request (client address, user agent), e.g. for events. @since 0.2.0 */
  readonly request: RequestInfo;
  readonly logger: Logger;
  /** Whether `rbac.authorize` allows the access (system administrators: always). */
  may(access: AccessRequest): Promise<boolean>;
  /** Throws `UNAUTHORIZED` for anonymous callers or `FORBIDDEN` unless {@link may} is true. */
  authorize(access: AccessRequest): Promise<void>;
  /** Sets a response header (e.g. `Location` of a created resource). */
  setHeader(name: string, value: string): void;
}

interface ApiOperationBase<P extends TSchema, Q extends TSchema, B extends TSchema> {
  /** Unique across the API, camelCase (`listProjects`); also the OpenAPI operationId. */
  readonly operationId: string;
  readonly method: ApiMethod;
  /** Path under `/api/v1`, with OpenAPI templates: `/projects/{project_name}/members`. */
  readonly path: string;
  /** OpenAPI tag that groups operations (`projects`, `users`...). */
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /** Object schema of the path parameters (strings). */
  readonly params?: P;
  /** Object schema of the query parameters, besides pagination. */
  readonly query?: Q;
  /** Schema of the JSON body. */
  readonly body?: B;
  /** Callers without credentials reach the handler (default: they get `UNAUTHORIZED`). */
  readonly anonymous?: boolean;
}

/** An operation on one resource. */
export interface ApiItemOperation<P extends TSchema = TSchema, Q extends TSchema = TSchema, B extends TSchema = TSchema, R extends TSchema = TSchema>
  extends ApiOperationBase<P, Q, B> {
  readonly list?: false;
  /** Schema of the success body; without it the answer is empty. */
  readonly response?: R;
  /** Success status; default 200, or 204 without `response`. */
  readonly status?: 200 | 201 | 202 | 204;
  readonly handler: (req: ApiRequest<Static<P>, Static<Q>, Static<B>>) => Promise<Static<R> | undefined>;
}

/**
 * A paginated list: `page`, `page_size`, `q=`, `sort=` (with `sorts`), `X-Total-Count` and
 * `Link` come from the kernel.
 */
export interface ApiListOperation<P extends TSchema = TSchema, Q extends TSchema = TSchema, R extends TSchema = TSchema>
  extends ApiOperationBase<P, Q, TSchema> {
  readonly list: true;
  /** Schema of one item. */
  readonly response: R;
  /** Keys `q=` may filter on. */
  readonly filters?: readonly string[];
  /**
   * Fields `sort=` may name (the item's property names, e.g. `['name', 'createdAt']`); the
   * kernel then owns `sort` and hands the parsed keys to the handler in `req.page.sort`.
   * Without it the operation takes no `sort=` from the kernel. @since 0.2.0
   */
  readonly sorts?: readonly string[];
  readonly handler: (req: ApiRequest<Static<P>, Static<Q>, undefined>) => Promise<ApiPage<Static<R>>>;
}

/**
 * A streamed success body (an export): the kernel writes each chunk as the iterable yields it,
 * so a large answer is never held whole. Make one with {@link apiStream}.
 * @since 0.2.0
 */
export interface ApiStreamBody {
  readonly $$type: 'wharf/ApiStreamBody';
  /** `Content-Type` of the answer, one of the operation's `produces`. */
  readonly contentType: string;
  /** Sent as `Content-Disposition: attachment; filename="..."` when set (letters, digits, `.`, `_`, `-`). */
  readonly filename?: string | undefined;
  readonly chunks: AsyncIterable<string | Uint8Array>;
}

const FILENAME = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * A streamed answer for an {@link ApiStreamOperation}. The kernel waits for the first chunk
 * before it sends the status, so a failure before any byte is still an error envelope; a
 * failure after that cuts the connection (the client sees an incomplete answer, never a short
 * one that looks whole).
 * @since 0.2.0
 */
export function apiStream(body: { contentType: string; filename?: string | undefined; chunks: AsyncIterable<string | Uint8Array> }): ApiStreamBody {
  if (body.filename !== undefined && !FILENAME.test(body.filename)) throw new TypeError(`apiStream: filename "${body.filename}" must be letters, digits, ".", "_" or "-"`);
  return Object.freeze({ $$type: 'wharf/ApiStreamBody', contentType: body.contentType, filename: body.filename, chunks: body.chunks });
}

/** True for a value made by {@link apiStream}. @since 0.2.0 */
export function isApiStream(value: unknown): value is ApiStreamBody {
  return typeof value === 'object' && value !== null && (value as { $$type?: unknown }).$$type === 'wharf/ApiStreamBody';
}

/**
 * An operation whose answer is streamed (CSV or JSON exports): a `GET` whose handler returns
 * {@link apiStream}. No pagination: the stream is the whole answer.
 * @since 0.2.0
 */
export interface ApiStreamOperation<P extends TSchema = TSchema, Q extends TSchema = TSchema> extends ApiOperationBase<P, Q, TSchema> {
  readonly list?: false;
  /** The media types the answer may have (for the OpenAPI document), e.g. `['text/csv', 'application/json']`. */
  readonly produces: readonly string[];
  readonly handler: (req: ApiRequest<Static<P>, Static<Q>, undefined>) => Promise<ApiStreamBody>;
}

export type ApiOperation = ApiItemOperation<any, any, any, any> | ApiListOperation<any, any, any> | ApiStreamOperation<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Where plugins add operations, during `register` only.
 * @since 0.1.0
 */
export interface ManagementApi {
  operation<P extends TSchema, Q extends TSchema, B extends TSchema, R extends TSchema>(op: ApiItemOperation<P, Q, B, R>): void;
  operation<P extends TSchema, Q extends TSchema, R extends TSchema>(op: ApiListOperation<P, Q, R>): void;
  /** A streamed answer (exports). @since 0.2.0 */
  operation<P extends TSchema, Q extends TSchema>(op: ApiStreamOperation<P, Q>): void;
}
