/**
 * Who is asking, and what they ask for: the values that flow through the auth and RBAC hooks.
 * @see docs/architecture/02-hooks.md
 * @since 0.1.0
 */

/** Credentials as presented by a client, before anyone checked them. */
export type Credentials =
  | { kind: 'anonymous' }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string };

/** Facts about the HTTP request, for logging and for decisions that depend on the caller. */
export interface RequestInfo {
  readonly requestId: string;
  readonly ip: string;
  readonly method: string;
  readonly path: string;
  readonly userAgent: string | undefined;
  /**
   * A request header by its lower-case name; set on management API requests (`/api/v1`, and
   * extension routes that call `HttpContext.authenticate()`), absent elsewhere. It lets an
   * `auth.authenticate` tap accept a credential the `Authorization` header does not carry, such
   * as the web UI's session cookie with its CSRF header.
   * @since 0.2.0
   */
  readonly header?: (name: string) => string | undefined;
}

/** An authenticated (or anonymous) identity. */
export interface Principal {
  /** Stable subject: the user name, the robot name, or `anonymous`. */
  readonly subject: string;
  readonly kind: 'user' | 'robot' | 'anonymous' | 'system';
  /** The plugin id that vouched for this principal. */
  readonly provider: string;
  /** Group names, filled in by `auth.principal` taps (e.g. from LDAP). */
  readonly groups: readonly string[];
  /** System administrators may do everything. */
  readonly admin: boolean;
  readonly displayName?: string;
  /** Provider-specific claims (never secrets). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** The principal of a request without credentials. */
export const ANONYMOUS: Principal = Object.freeze({
  subject: 'anonymous',
  kind: 'anonymous',
  provider: 'kernel',
  groups: Object.freeze([]) as readonly string[],
  admin: false,
});

/** Actions on a repository, as in the Docker token scope grammar. */
export type RepositoryAction = 'pull' | 'push' | 'delete';

/**
 * Resources of the management API that live inside a project (Harbor's project-scope names):
 * `project` (the project itself), `member`, `robot`, `metadata`, `repository`, `tag`,
 * `artifact`, `log`. Plugins may add their own names.
 */
export type ProjectResource = 'project' | 'member' | 'robot' | 'metadata' | 'repository' | 'tag' | 'artifact' | 'log' | (string & {});

/**
 * Resources of the management API that belong to the whole registry: `user`, `user-group`,
 * `project` (create and list projects), `robot` (system robots), `configuration`, `audit-log`.
 */
export type SystemResource = 'user' | 'user-group' | 'project' | 'robot' | 'configuration' | 'audit-log' | (string & {});

/** Actions on management API resources (Harbor's C, R, U, D, L). */
export type ApiAction = 'create' | 'read' | 'update' | 'delete' | 'list';

/**
 * A resource an access decision is about:
 * - `repository`: a repository on `/v2/` (actions `pull`, `push`, `delete`);
 * - `registry`: the catalog (`*`, system administrators only);
 * - `project`: a resource inside the project `name` (actions {@link ApiAction});
 * - `system`: a registry-wide resource (actions {@link ApiAction}).
 */
export type Resource =
  | { type: 'repository'; name: string }
  | { type: 'registry'; name: 'catalog' }
  | { type: 'project'; name: string; resource: ProjectResource }
  | { type: 'system'; name: SystemResource };

/** One access question: may the principal do `action` on `resource`? */
export interface AccessRequest {
  readonly resource: Resource;
  readonly action: RepositoryAction | ApiAction | '*' | (string & {});
}

/** An RBAC answer. `undefined` from a tap means "no opinion"; when nobody answers, the kernel denies. */
export type Decision = { allow: true } | { allow: false; reason?: string };
