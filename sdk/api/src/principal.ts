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

/** A resource an access decision is about. */
export type Resource =
  | { type: 'repository'; name: string }
  | { type: 'registry'; name: 'catalog' }
  | { type: 'api'; name: string };

/** One access question: may the principal do `action` on `resource`? */
export interface AccessRequest {
  readonly resource: Resource;
  readonly action: string;
}

/** An RBAC answer. `undefined` from a tap means "no opinion"; when nobody answers, the kernel denies. */
export type Decision = { allow: true } | { allow: false; reason?: string };
