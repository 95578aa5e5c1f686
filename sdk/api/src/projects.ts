import type { Principal } from './principal.js';
import { createServiceRef } from './services.js';

/**
 * Projects as other plugins need them: an RBAC plugin that groups repositories into projects
 * (`@wharf/plugin-rbac-projects`) provides these refs; a plugin that writes repositories on its
 * own (replication, a proxy cache) depends on them optionally, through `optionalDeps`.
 * @see docs/architecture/03-services.md
 * @since 0.2.0
 */

/** Creating the project a system writer is about to fill. @since 0.2.0 */
export interface ProjectProvisioningService {
  /**
   * Creates the project `name` when it does not exist: private, with `owner` (a user name) as
   * its Project Admin when given, as a project created through the API would be. Resolves
   * `true` when it created it, `false` when it existed (also when another node created it
   * meanwhile). Throws for a name that cannot be a project.
   */
  ensureProject(name: string, options?: { readonly owner?: string | undefined }): Promise<boolean>;
}

/** Which projects exist, for plugins that keep settings per project (quotas, policies). @since 0.2.0 */
export interface ProjectDirectoryService {
  /** Whether the project `name` exists now. */
  exists(name: string): Promise<boolean>;
  /**
   * The projects `principal` may see (public ones, and those it is a member of directly or
   * through a group; every project for a system administrator), in name order: those whose name
   * contains `contains` (case-insensitive) when given, at most `limit` when given. One query;
   * what a registry-wide search filters on. Optional: a directory without it lets searches show
   * content to administrators only.
   * @since 0.2.0
   */
  listVisible?(principal: Principal, options?: { readonly contains?: string | undefined; readonly limit?: number | undefined }): Promise<readonly VisibleProject[]>;
}

/** A project as {@link ProjectDirectoryService.listVisible} lists it. @since 0.2.0 */
export interface VisibleProject {
  readonly name: string;
  readonly public: boolean;
}

/** Refs of project services, provided by an RBAC plugin with projects. @since 0.2.0 */
export const projectServices = Object.freeze({
  /** @since 0.2.0 */
  provisioning: createServiceRef<ProjectProvisioningService>({ id: 'projects.provisioning' }),
  /** @since 0.2.0 */
  directory: createServiceRef<ProjectDirectoryService>({ id: 'projects.directory' }),
});
