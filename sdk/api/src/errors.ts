/**
 * The two kinds of error in Wharf.
 *
 * - {@link RegistryError} is what clients see: an OCI Distribution error code with the HTTP
 *   status the spec gives it. Throw one from a policy gate or a route to refuse a request.
 * - {@link KernelError} is for operators and plugin authors: a stable `REG_ERR_*` code and a
 *   message that names the plugin and the config key at fault.
 *
 * @see docs/architecture/07-errors.md
 * @since 0.1.0
 */

/** One OCI error code and the HTTP status the distribution spec pairs with it. */
export interface OciErrorDescriptor {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly message: string;
}

/** @since 0.1.0 */
export type OciErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'RANGE_INVALID'
  | 'TAG_INVALID'
  | 'UNKNOWN';

/**
 * The OCI error table (distribution-spec "Error Codes"), with the status each code is sent with.
 * `RANGE_INVALID` and `TAG_INVALID` are not in the spec's table but follow its form; clients
 * only read the HTTP status for them.
 * @since 0.1.0
 */
export const OCI_ERRORS: Readonly<Record<OciErrorCode, OciErrorDescriptor>> = Object.freeze({
  BLOB_UNKNOWN: { code: 'BLOB_UNKNOWN', status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { code: 'BLOB_UPLOAD_INVALID', status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { code: 'BLOB_UPLOAD_UNKNOWN', status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { code: 'DIGEST_INVALID', status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { code: 'MANIFEST_BLOB_UNKNOWN', status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { code: 'MANIFEST_INVALID', status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { code: 'MANIFEST_UNKNOWN', status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { code: 'NAME_INVALID', status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { code: 'NAME_UNKNOWN', status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { code: 'SIZE_INVALID', status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { code: 'UNAUTHORIZED', status: 401, message: 'authentication required' },
  DENIED: { code: 'DENIED', status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { code: 'UNSUPPORTED', status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { code: 'TOOMANYREQUESTS', status: 429, message: 'too many requests' },
  RANGE_INVALID: { code: 'RANGE_INVALID', status: 416, message: 'requested range not satisfiable' },
  TAG_INVALID: { code: 'TAG_INVALID', status: 400, message: 'invalid tag' },
  UNKNOWN: { code: 'UNKNOWN', status: 500, message: 'unknown error' },
});

/** Options of a {@link RegistryError}. */
export interface RegistryErrorOptions {
  /** Overrides the status of the code's descriptor (e.g. 413 for a too-large manifest). */
  status?: number;
  /** Structured detail sent to the client in the error body. */
  detail?: unknown;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Range`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * A client-facing error. The kernel's error middleware turns it into the OCI error body
 * `{"errors":[{"code","message","detail"}]}` with the descriptor's HTTP status.
 * @since 0.1.0
 */
export class RegistryError extends Error {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(code: OciErrorCode, message?: string, options: RegistryErrorOptions = {}) {
    const descriptor = OCI_ERRORS[code];
    super(message ?? descriptor.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.status = options.status ?? descriptor.status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

/** True for a {@link RegistryError}, also across package copies. */
export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError || (err instanceof Error && err.name === 'RegistryError' && 'code' in err && 'status' in err);
}

/**
 * Stable operator-facing error codes. Named `REG_ERR_<AREA>_<WHAT>`.
 * @see docs/reference/errors.md
 * @since 0.1.0
 */
export type KernelErrorCode =
  | 'REG_ERR_CONFIG_INVALID'
  | 'REG_ERR_CONFIG_READ'
  | 'REG_ERR_PLUGIN_NOT_FOUND'
  | 'REG_ERR_PLUGIN_INVALID'
  | 'REG_ERR_PLUGIN_KERNEL_MISMATCH'
  | 'REG_ERR_PLUGIN_KIND_MISMATCH'
  | 'REG_ERR_PLUGIN_DUPLICATE'
  | 'REG_ERR_PLUGIN_DEPENDENCY'
  | 'REG_ERR_PLUGIN_REGISTER'
  | 'REG_ERR_PLUGIN_INIT'
  | 'REG_ERR_PLUGIN_TIMEOUT'
  | 'REG_ERR_PLUGIN_SEALED'
  | 'REG_ERR_KERNEL_STATE'
  | 'REG_ERR_SERVICE_MISSING'
  | 'REG_ERR_SERVICE_DUPLICATE'
  | 'REG_ERR_SERVICE_UNAVAILABLE'
  | 'REG_ERR_STORAGE'
  | 'REG_ERR_DATABASE'
  | 'REG_ERR_EVENTS_CONSUMER'
  | 'REG_ERR_JOBS_BACKEND'
  | 'REG_ERR_CLI_COMMAND'
  | 'REG_ERR_LISTEN';

/**
 * An error for operators and plugin authors, with a stable code and, where known, the plugin
 * and config key at fault.
 * @since 0.1.0
 */
export class KernelError extends Error {
  readonly code: KernelErrorCode;
  readonly plugin: string | undefined;

  constructor(code: KernelErrorCode, message: string, options: { plugin?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KernelError';
    this.code = code;
    this.plugin = options.plugin;
  }
}

/**
 * True for a {@link KernelError}, also across package copies: a plugin installed with its own
 * copy of `@wharf/sdk` throws errors of that copy's class, which `instanceof` does not see.
 * @since 0.1.0
 */
export function isKernelError(err: unknown): err is KernelError {
  if (err instanceof KernelError) return true;
  const code: unknown = err instanceof Error && err.name === 'KernelError' ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('REG_ERR_');
}
