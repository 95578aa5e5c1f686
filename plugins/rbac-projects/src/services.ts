import { createServiceRef } from '@wharf/sdk';
import type { Authorizer } from './authorizer.js';
import type { ProjectStore } from './project-store.js';
import type { RobotStore } from './robot-store.js';

/** What the plugin provides to the CLI and other plugins. */
export interface ProjectsService {
  readonly projects: ProjectStore;
  readonly robots: RobotStore;
  readonly authorizer: Authorizer;
  /** The configured robot name prefix and default lifetime. */
  readonly robotPrefix: string;
  readonly robotDefaultDays: number;
  /** How many repositories the project holds (a project is deleted only when empty). */
  repositoryCount(project: string): Promise<number>;
}

/** `rbac-projects.service`: projects, members, groups and robots of the deployment. */
export const projectsServiceRef = createServiceRef<ProjectsService>({ id: 'rbac-projects.service' });
