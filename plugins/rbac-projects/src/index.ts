import { coreServices, definePlugin, projectServices, type Principal } from '@wharf/sdk';
import { registerProjectsApi } from './api/index.js';
import { memberKeys } from './api/projects.js';
import { Authorizer } from './authorizer.js';
import { projectsCommands } from './cli.js';
import { projectsConfigSchema } from './config.js';
import { ProjectStore } from './project-store.js';
import { projectProvisioning } from './provisioning.js';
import { robotActivity, robotAuthenticator } from './robot-auth.js';
import { RobotStore } from './robot-store.js';
import { rbacMigrations } from './migrations.js';
import { projectServiceRef, projectsServiceRef, robotServiceRef } from './services.js';
import { VERSION } from './version.js';

/** Robots are checked before every other provider (whose taps have the default stage 0). */
const ROBOT_AUTH_STAGE = -100;

/**
 * `rbac: { projects: {} }`: Harbor's access model on Wharf's hooks. Projects (the first segment
 * of repository names), public or private; members (users or groups) with one of the five
 * roles; robot accounts with explicit permissions. Taps `rbac.authorize`, authenticates robots
 * on `auth.authenticate` before any other provider (an LDAP server never sees robot names),
 * answers `auth.active` for robots, and adds the projects, members, user groups and robots
 * operations to `/api/v1`.
 */
export const rbacProjectsPlugin = definePlugin({
  id: 'projects',
  kind: 'rbac',
  version: VERSION,
  kernel: '^0.1.0',
  description: "Projects, members with Harbor's five roles, user groups and robot accounts",
  configSchema: projectsConfigSchema,
  cli: projectsCommands,
  register(ctx) {
    const config = ctx.config;
    ctx.migrations(rbacMigrations);
    ctx.provide(projectsServiceRef, {
      deps: { database: coreServices.database, repositories: coreServices.repositories, events: coreServices.events },
      factory: ({ database, repositories, events }) => {
        // Every write of the stores drops the authorizer's cached reads in this process.
        let authorizer: Authorizer | undefined;
        const changed = () => authorizer?.invalidate();
        const projects = new ProjectStore(database, changed);
        const robots = new RobotStore(database, config.robotPrefix, changed);
        authorizer = new Authorizer({ projects, robots, config, provider: ctx.id });
        return {
          projects,
          robots,
          authorizer,
          robotPrefix: config.robotPrefix,
          robotDefaultDays: config.robotDefaultDays,
          database,
          events,
          repositoryCount: async (project) => (await repositories.list(project, { page: 1, pageSize: 1 })).total,
        };
      },
    });
    ctx.provide(projectServiceRef, { deps: { all: projectsServiceRef }, factory: ({ all }) => all.projects });
    ctx.provide(robotServiceRef, { deps: { all: projectsServiceRef }, factory: ({ all }) => all.robots });
    // For plugins that write repositories themselves (replication pulls): the missing project, private.
    ctx.provide(projectServices.provisioning, { deps: { all: projectsServiceRef }, factory: ({ all }) => projectProvisioning(all.projects) });
    ctx.provide(projectServices.directory, {
      deps: { all: projectsServiceRef },
      factory: ({ all }) =>
        Object.freeze({
          exists: async (name: string) => (await all.projects.get(name)) !== undefined,
          // The rule of listProjects: administrators see every project, others public ones and their own.
          listVisible: (principal: Principal, options: { contains?: string | undefined; limit?: number | undefined } = {}) =>
            all.projects.listVisible({ contains: options.contains, limit: options.limit, ...(principal.admin ? {} : { visibleTo: memberKeys(principal) }) }),
        }),
    });

    // Taps and operations get the built service: the kernel calls init after every singleton was
    // built and every migration ran; taps keep config order whichever phase made them.
    ctx.registerInit({
      deps: { service: projectsServiceRef },
      async init({ service }) {
        if (config.defaultProject !== null && (await service.projects.ensurePublic(config.defaultProject))) {
          ctx.logger.info({ project: config.defaultProject }, 'created the default public project');
        }
        ctx.hooks.rbac.authorize.tapPromise(ctx.id, (principal, access) => service.authorizer.decide(principal, access));
        const robots = service.robots;
        ctx.hooks.auth.authenticate.tapPromise(
          { name: ctx.id, stage: ROBOT_AUTH_STAGE },
          robotAuthenticator({ robots, prefix: config.robotPrefix, provider: ctx.id, logger: ctx.logger }),
        );
        ctx.hooks.auth.active.tapPromise(ctx.id, robotActivity({ robots, provider: ctx.id }));
        registerProjectsApi(ctx.api, { service, config });
      },
    });
  },
});

export default rbacProjectsPlugin;
export { projectsConfigSchema, type ProjectsConfig } from './config.js';
export { projectsServiceRef, projectServiceRef, robotServiceRef, type ProjectsService, type ProjectService, type RobotService } from './services.js';
export {
  ProjectStore,
  GROUP_TYPES,
  type Project,
  type Member,
  type MemberKind,
  type UserGroup,
  type GroupType,
  type Page,
  type PageOptions,
  type ProjectFilter,
} from './project-store.js';
export {
  RobotStore,
  checkPermissions,
  isExpired,
  type Robot,
  type RobotPermission,
  type RobotAccess,
  type RobotLevel,
  type RobotCheck,
  type CreateRobotInput,
} from './robot-store.js';
export { Authorizer, type AuthorizerOptions } from './authorizer.js';
export { ProjectsError, type ProjectsErrorCode } from './errors.js';
export { ROLES, MATRIX, PUBLIC_PROJECT, ROBOT_PERMISSIONS, roleById, roleByName, roleAllows, publicAllows, strongestRole, type RoleId, type RoleName } from './roles.js';
export { isProjectName, isRobotShortName, projectOf, robotFullName } from './names.js';
export { VERSION as RBAC_PLUGIN_VERSION } from './version.js';
export { projectsCommands, parseRobotAccess } from './cli.js';
