/**
 * Arguments of the observation hooks (`http.*`, `storage.operationFinished`,
 * `jobs.attemptFinished`, `auth.loginAttempted`, `auth.tokenIssued`): facts about work the
 * kernel just did, for metrics and tracing plugins. They carry no secrets and no request
 * bodies, and they are cheap to build: the kernel builds one only when the hook has a tap.
 * @see docs/architecture/02-hooks.md
 * @since 0.2.0
 */

/**
 * An HTTP request arrived (before any middleware ran).
 * @since 0.2.0
 */
export interface HttpRequestStarted {
  readonly method: string;
}

/**
 * An HTTP response was finished (or the connection closed before it was). Exactly one per
 * {@link HttpRequestStarted}.
 * @since 0.2.0
 */
export interface HttpRequestFinished {
  readonly method: string;
  /**
   * The route template that served the request, never the raw path: `/v2/{name}/manifests/{reference}`,
   * `/api/v1/projects/{project}`, `/_ext/metrics/...`. `undefined` when no route matched (a 404).
   */
  readonly route: string | undefined;
  /** The status sent (0 when the client went away before the response started). */
  readonly status: number;
  /** From the request's arrival to the response's end. */
  readonly durationMs: number;
  /** The request body's declared length (`Content-Length`), when there was one. */
  readonly requestBytes: number | undefined;
  /** The response body's length (`Content-Length` sent), when known. */
  readonly responseBytes: number | undefined;
}

/**
 * One call of the storage driver finished.
 * @since 0.2.0
 */
export interface StorageOperation {
  /** The driver's name (`fs`, `s3`...). */
  readonly driver: string;
  /**
   * The driver method: `stat`, `read`, `delete`, `deleteCommitted`, `createUpload`, `append`, `uploadSize`,
   * `readUpload`, `commit`, `abort`, `redirectUrl`, `healthCheck`. For `read` and `readUpload`
   * the time is until the stream was opened, not until it was consumed.
   */
  readonly operation: string;
  readonly durationMs: number;
  /** False when the call rejected (`stat` of a missing blob answers `undefined`: that is ok). */
  readonly ok: boolean;
}

/**
 * One run (attempt) of a job's handler finished on this node.
 * @since 0.2.0
 */
export interface JobAttempt {
  readonly type: string;
  /**
   * `succeeded`; `retry` (it threw and will run again); `failed` (it threw a permanent error or
   * used its last attempt).
   */
  readonly outcome: 'succeeded' | 'retry' | 'failed';
  readonly attempt: number;
  /** The handler's run time. */
  readonly durationMs: number;
}

/**
 * The kernel's authenticator asked the auth providers about credentials (answers from its
 * credential cache are not logins and are not reported).
 * @since 0.2.0
 */
export interface LoginAttempt {
  readonly ok: boolean;
  /** The plugin id that vouched for the caller; `undefined` when the login failed. */
  readonly provider: string | undefined;
  /** Where the credentials came: the token endpoint, `/v2/`, the management API, or elsewhere. */
  readonly via: 'token' | 'v2' | 'api' | 'other';
}

/**
 * The token service issued a token.
 * @since 0.2.0
 */
export interface TokenIssued {
  /** An access token (Docker token spec) or a refresh token. */
  readonly kind: 'access' | 'refresh';
  /** Who it was issued to: `user`, `robot`, `anonymous`, `system`. */
  readonly principalKind: 'user' | 'robot' | 'anonymous' | 'system';
}
