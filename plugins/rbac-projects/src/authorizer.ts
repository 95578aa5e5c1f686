import type { AccessRequest, Decision, Principal } from '@wharf/sdk';
import type { ProjectsConfig } from './config.js';
import { projectOf } from './names.js';
import type { MemberKind, Project, ProjectStore } from './project-store.js';
import { isExpired, type Robot, type RobotStore } from './robot-store.js';
import { publicAllows, roleAllows, strongestRole, type RoleId } from './roles.js';
import { TtlCache } from './ttl-cache.js';

/**
 * The `rbac.authorize` answer of the projects plugin:
 * - system administrators may do everything, except push outside a project;
 * - a repository belongs to the project named by its first segment; `/v2/` actions (pull, push,
 *   delete) are the `repository` row of the role matrix;
 * - users get the strongest role they hold directly or through one of `principal.groups`;
 * - robots get exactly their listed permissions, while enabled and unexpired (nothing else,
 *   not even what anonymous callers may do in public projects: Harbor's explicit robot model);
 * - anyone else, anonymous included, may read and pull in a public project;
 * - system resources other than listing and (per config) creating projects are for admins.
 */

const deny = (reason: string): Decision => ({ allow: false, reason });
const ALLOW: Decision = Object.freeze({ allow: true });

export interface AuthorizerOptions {
  readonly projects: ProjectStore;
  readonly robots: RobotStore;
  readonly config: Pick<ProjectsConfig, 'creation' | 'autoCreate' | 'decisionCacheSeconds'>;
  /** The plugin id: robots are only the principals this plugin vouched for. */
  readonly provider: string;
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
    const { resource, action } = access;
    if (resource.type === 'repository') return this.decideRepository(principal, resource.name, action);
    if (principal.admin) return ALLOW;
    switch (resource.type) {
      case 'project':
        return this.decideInProject(principal, resource.name, resource.resource, action, false);
      case 'system':
        if (resource.name === 'project' && action === 'list') return ALLOW;
        if (resource.name === 'project' && action === 'create') {
          if (this.mayCreateProjects(principal)) return ALLOW;
          return deny(this.options.config.creation === 'adminonly' ? 'only system administrators may create projects' : 'only logged-in users may create projects');
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

  /**
   * Every repository belongs to a project, administrators' included: a push needs an existing
   * project (or creates it with `autoCreate`). Administrators may still pull and delete
   * anything, so repositories from before the plugin was enabled can be cleaned up.
   */
  private async decideRepository(principal: Principal, repository: string, action: string): Promise<Decision> {
    const project = projectOf(repository);
    if (!project) {
      if (principal.admin && action !== 'push') return ALLOW;
      return deny(`repository "${repository}" has no project: name it <project>/<name>`);
    }
    if (principal.admin && action !== 'push') return ALLOW;
    return this.decideInProject(principal, project, 'repository', action, true);
  }

  private async decideInProject(principal: Principal, name: string, resource: string, action: string, onRegistry: boolean): Promise<Decision> {
    let project = await this.project(name);
    if (!project) {
      const mayAutoCreate = this.options.config.autoCreate && this.mayCreateProjects(principal);
      if (!mayAutoCreate || !onRegistry) return deny(`project "${name}" does not exist`);
      // The token service asks pull before push: refusing it would leave `docker push` with a
      // push-only token that cannot even check which blobs exist. There is nothing to pull yet.
      if (action === 'pull') return ALLOW;
      if (action !== 'push') return deny(`project "${name}" does not exist`);
      project = await this.autoCreate(name, principal);
      if (!project) return deny(`"${name}" is not a valid project name: lowercase letters and digits, single . _ or - between them`);
    }
    if (principal.admin) return ALLOW;
    if (principal.kind === 'robot') return this.decideForRobot(principal, project, resource, action);
    if (principal.kind === 'user') {
      const role = await this.roleOf(principal, project);
      if (role !== undefined && roleAllows(role, resource, action)) return ALLOW;
    }
    if (project.public && publicAllows(resource, action)) return ALLOW;
    return deny(`${action} on ${resource} of project "${name}" is not allowed`);
  }

  private async decideForRobot(principal: Principal, project: Project, resource: string, action: string): Promise<Decision> {
    if (principal.provider !== this.options.provider) return deny('robot accounts of other providers have no permissions here');
    const robot = await this.robotCache.get(principal.subject, () => this.options.robots.getByName(principal.subject));
    if (!robot || robot.disabled || isExpired(robot, this.options.now?.())) return deny('robot account unknown, disabled or expired');
    if (robot.level === 'project' && robot.projectId !== project.id) return deny('robot account of another project');
    // A system robot's entries for this project and for `*` add up.
    const covering = robot.permissions.filter((p) => p.namespace === project.name || p.namespace === '*');
    if (covering.some((p) => p.access.some((a) => a.resource === resource && a.action === action))) return ALLOW;
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
