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
}

/** Refs of project services, provided by an RBAC plugin with projects. @since 0.2.0 */
export const projectServices = Object.freeze({
  /** @since 0.2.0 */
  provisioning: createServiceRef<ProjectProvisioningService>({ id: 'projects.provisioning' }),
  /** @since 0.2.0 */
  directory: createServiceRef<ProjectDirectoryService>({ id: 'projects.directory' }),
});
