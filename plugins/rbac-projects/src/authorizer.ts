import type { AccessRequest, Decision, Principal } from '@wharf/sdk';
import type { ProjectsConfig } from './config.js';
import { projectOf } from './names.js';
import type { MemberKind, Project, ProjectStore } from './project-store.js';
import { isExpired, type Robot, type RobotStore } from './robot-store.js';
import { publicAllows, roleAllows, strongestRole, type RoleId } from './roles.js';
import { TtlCache } from './ttl-cache.js';

/**
 * The `rbac.authorize` answer of the projects plugin:
 * - system administrators may do everything;
 * - a repository belongs to the project named by its first segment; `/v2/` actions (pull, push,
 *   delete) are the `repository` row of the role matrix;
 * - users get the strongest role they hold directly or through one of `principal.groups`;
 * - robots get exactly their listed permissions, while enabled and unexpired;
 * - anyone, anonymous included, may read and pull in a public project;
 * - system resources other than listing and (per config) creating projects are for admins.
 */

const deny = (reason: string): Decision => ({ allow: false, reason });
const ALLOW: Decision = Object.freeze({ allow: true });

export interface AuthorizerOptions {
  readonly projects: ProjectStore;
  readonly robots: RobotStore;
  readonly config: Pick<ProjectsConfig, 'creation' | 'autoCreate' | 'decisionCacheSeconds'>;
  readonly now?: () => number;
}

export class Authorizer {
  private readonly projectCache: TtlCache<Project | undefined>;
  private readonly roleCache: TtlCache<RoleId | undefined>;
  private readonly robotCache: TtlCache<Robot | undefined>;

  constructor(private readonly options: AuthorizerOptions) {
    const ttl = options.config.decisionCacheSeconds * 1000;
    this.projectCache = new TtlCache(ttl, 10_000, options.now);
    this.roleCache = new TtlCache(ttl, 10_000, options.now);
    this.robotCache = new TtlCache(ttl, 10_000, options.now);
  }

  /** Forget cached reads (after this process changed projects, members or robots). */
  invalidate(): void {
    this.projectCache.clear();
    this.roleCache.clear();
    this.robotCache.clear();
  }

  /** May this principal create projects (the `creation` setting)? */
  mayCreateProjects(principal: Principal): boolean {
    if (principal.admin) return true;
    return principal.kind === 'user' && this.options.config.creation === 'everyone';
  }

  async decide(principal: Principal, access: AccessRequest): Promise<Decision> {
    if (principal.admin) return ALLOW;
    const { resource, action } = access;
    switch (resource.type) {
      case 'repository': {
        const project = projectOf(resource.name);
        if (!project) return deny(`repository "${resource.name}" has no project: name it <project>/<name>`);
        return this.decideInProject(principal, project, 'repository', action, action === 'push');
      }
      case 'project':
        return this.decideInProject(principal, resource.name, resource.resource, action, false);
      case 'system':
        if (resource.name === 'project' && action === 'list') return ALLOW;
        if (resource.name === 'project' && action === 'create') {
          return this.mayCreateProjects(principal) ? ALLOW : deny('only system administrators may create projects');
        }
        return deny(`${resource.name}: system administrators only`);
      default:
        return deny('system administrators only');
    }
  }

  /** The project's record, through the cache. */
  project(name: string): Promise<Project | undefined> {
    return this.projectCache.get(name, () => this.options.projects.get(name));
  }

  /** The strongest role of a user (directly or through groups) in a project. */
  async roleOf(principal: Principal, project: Project): Promise<RoleId | undefined> {
    if (principal.kind !== 'user') return undefined;
    const who: { kind: MemberKind; name: string }[] = [{ kind: 'user', name: principal.subject }, ...principal.groups.map((g) => ({ kind: 'group' as const, name: g }))];
    const key = `${project.id}\u0000${who.map((w) => `${w.kind}:${w.name}`).join('\u0000')}`;
    return this.roleCache.get(key, async () => strongestRole(await this.options.projects.rolesIn(project.id, who)));
  }

  private async decideInProject(principal: Principal, name: string, resource: string, action: string, mayAutoCreate: boolean): Promise<Decision> {
    let project = await this.project(name);
    if (!project) {
      if (!(mayAutoCreate && this.options.config.autoCreate && this.mayCreateProjects(principal))) {
        return deny(`project "${name}" does not exist`);
      }
      project = await this.autoCreate(name, principal);
      if (!project) return deny(`"${name}" is not a valid project name`);
    }
    if (principal.kind === 'robot') return this.decideForRobot(principal, project, resource, action);
    if (principal.kind === 'user') {
      const role = await this.roleOf(principal, project);
      if (role !== undefined && roleAllows(role, resource, action)) return ALLOW;
    }
    if (project.public && publicAllows(resource, action)) return ALLOW;
    return deny(`${action} on ${resource} of project "${name}" is not allowed`);
  }

  private async decideForRobot(principal: Principal, project: Project, resource: string, action: string): Promise<Decision> {
    const robot = await this.robotCache.get(principal.subject, () => this.options.robots.getByName(principal.subject));
    if (!robot || robot.disabled || isExpired(robot, this.options.now?.())) return deny('robot account unknown, disabled or expired');
    // What anonymous callers may do, a robot may too.
    if (project.public && publicAllows(resource, action)) return ALLOW;
    if (robot.level === 'project' && robot.projectId !== project.id) return deny('robot account of another project');
    const permission = robot.permissions.find((p) => p.namespace === project.name) ?? robot.permissions.find((p) => p.namespace === '*');
    if (permission?.access.some((a) => a.resource === resource && a.action === action)) return ALLOW;
    return deny(`robot has no ${resource}:${action} permission in "${project.name}"`);
  }

  /** Creates a missing project on first push; a concurrent creator may win the race. */
  private async autoCreate(name: string, principal: Principal): Promise<Project | undefined> {
    try {
      await this.options.projects.create(name, { public: false, owner: principal.subject });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'PROJECT_NAME_INVALID') return undefined;
      if (code !== 'PROJECT_EXISTS') throw err;
    }
    this.invalidate();
    return this.project(name);
  }
}
