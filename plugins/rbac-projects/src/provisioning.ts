import type { ProjectProvisioningService } from '@wharf/sdk';
import { ProjectsError } from './errors.js';
import type { ProjectStore } from './project-store.js';

/**
 * `projectServices.provisioning`: creates a missing project for a plugin that writes
 * repositories itself (the replication engine's pulls), private and owned by the given user
 * (Project Admin), as Harbor creates a pull replication's destination project.
 */
export function projectProvisioning(projects: ProjectStore): ProjectProvisioningService {
  return Object.freeze({
    async ensureProject(name: string, options: { readonly owner?: string | undefined } = {}): Promise<boolean> {
      if (await projects.get(name)) return false;
      try {
        await projects.create(name, { public: false, owner: options.owner ?? null });
        return true;
      } catch (err) {
        if (err instanceof ProjectsError && err.code === 'PROJECT_EXISTS') return false;
        throw err;
      }
    },
  });
}
