import { createServiceRef, type DatabaseService, type EventService } from '@wharf/sdk';
import type { Authorizer } from './authorizer.js';
import type { ProjectStore } from './project-store.js';
import type { RobotStore } from './robot-store.js';

/**
 * Projects, members and user groups: create, get, list, setPublic (update), delete; addMember,
 * listMembers, getMember, setMemberRole, removeMember; createGroup, listGroups, getGroup,
 * updateGroup, deleteGroup. Every write drops the plugin's cached access decisions.
 */
export type ProjectService = ProjectStore;

/**
 * Robot accounts: create (returns the secret, once), list, get, getByName, update (enable,
 * disable, permissions, expiry), refreshSecret (returns the new secret, once), delete, verify.
 */
export type RobotService = RobotStore;

/** Everything the plugin holds, in one service (what the `wharf project|robot` commands use). */
export interface ProjectsService {
  readonly projects: ProjectService;
  readonly robots: RobotService;
  readonly authorizer: Authorizer;
  /** The configured robot name prefix and default lifetime. */
  readonly robotPrefix: string;
  readonly robotDefaultDays: number;
  /** The database (its `transaction` joins a change and its event) and the durable events. */
  readonly database: DatabaseService;
  readonly events: EventService;
  /** How many repositories the project holds (a project is deleted only when empty). */
  repositoryCount(project: string): Promise<number>;
}

/** `rbac-projects.service`: projects, members, groups, robots and the authorizer. */
export const projectsServiceRef = createServiceRef<ProjectsService>({ id: 'rbac-projects.service' });

/** `rbac-projects.projects`: projects, members and user groups. */
export const projectServiceRef = createServiceRef<ProjectService>({ id: 'rbac-projects.projects' });

/** `rbac-projects.robots`: robot accounts. */
export const robotServiceRef = createServiceRef<RobotService>({ id: 'rbac-projects.robots' });
