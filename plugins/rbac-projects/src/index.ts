import { coreServices, definePlugin, RegistryError, type Principal } from '@wharf/sdk';
import { registerProjectsApi } from './api/index.js';
import { Authorizer } from './authorizer.js';
import { projectsConfigSchema } from './config.js';
import { ProjectStore } from './project-store.js';
import { isExpired, RobotStore } from './robot-store.js';
import { projectsServiceRef, type ProjectsService } from './services.js';
import { VERSION } from './version.js';

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
  register(ctx) {
    const config = ctx.config;
    let built: ProjectsService | undefined;
    // Built by the kernel with the other singletons, before lifecycle.ready runs.
    const service = (): ProjectsService => {
      if (!built) throw new Error('the projects service was not built');
      return built;
    };
    ctx.provide(projectsServiceRef, {
      deps: { database: coreServices.database, repositories: coreServices.repositories },
      factory: ({ database, repositories }) => {
        const projects = new ProjectStore(database);
        const robots = new RobotStore(database, config.robotPrefix);
        built = {
          projects,
          robots,
          authorizer: new Authorizer({ projects, robots, config }),
          robotPrefix: config.robotPrefix,
          robotDefaultDays: config.robotDefaultDays,
          repositoryCount: async (project) => (await repositories.list(project, { page: 1, pageSize: 1 })).total,
        };
        return built;
      },
    });

    ctx.hooks.lifecycle.ready.tapPromise(ctx.id, async () => {
      const { projects } = service();
      await projects.migrate();
      if (config.defaultProject !== null && (await projects.ensurePublic(config.defaultProject))) {
        ctx.logger.info({ project: config.defaultProject }, 'created the default public project');
      }
    });

    ctx.hooks.rbac.authorize.tapPromise(ctx.id, (principal, access) => service().authorizer.decide(principal, access));

    // Robots first: their names never reach another provider (an LDAP search, a db lookup).
    ctx.hooks.auth.authenticate.tapPromise({ name: ctx.id, stage: -100 }, async (credentials): Promise<Principal | undefined> => {
      if (credentials.kind !== 'basic' || !credentials.username.startsWith(config.robotPrefix)) return undefined;
      const check = await service().robots.verify(credentials.username, credentials.password);
      if (check.ok) return { subject: check.robot.name, kind: 'robot', provider: ctx.id, admin: false, groups: [] };
      ctx.logger.debug({ robot: credentials.username, reason: check.reason }, 'robot login refused');
      throw new RegistryError('UNAUTHORIZED', 'invalid robot name or secret, or the robot is disabled or expired');
    });

    ctx.hooks.auth.active.tapPromise(ctx.id, async (principal) => {
      if (principal.kind !== 'robot' || principal.provider !== ctx.id) return undefined;
      const robot = await service().robots.getByName(principal.subject);
      return robot !== undefined && !robot.disabled && !isExpired(robot);
    });

    registerProjectsApi(ctx.api, { service, config });
  },
});

export default rbacProjectsPlugin;
export { projectsConfigSchema, type ProjectsConfig } from './config.js';
export { projectsServiceRef, type ProjectsService } from './services.js';
export { ProjectStore, type Project, type Member, type MemberKind, type UserGroup, type GroupType, type Page } from './project-store.js';
export { RobotStore, type Robot, type RobotPermission, type RobotAccess, type RobotLevel, type CreateRobotInput } from './robot-store.js';
export { Authorizer } from './authorizer.js';
export { ProjectsError, type ProjectsErrorCode } from './errors.js';
export { ROLES, MATRIX, PUBLIC_PROJECT, ROBOT_PERMISSIONS, roleById, roleByName, type RoleId, type RoleName } from './roles.js';
export { isProjectName, projectOf, robotFullName } from './names.js';
export { VERSION as RBAC_PLUGIN_VERSION } from './version.js';
