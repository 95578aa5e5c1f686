import type { AccessRequest, Decision, Principal } from '@wharf/sdk';
import type { ProjectsConfig } from './config.js';
import { projectOf } from './names.js';
import type { MemberKind, Project, ProjectStore } from './project-store.js';
import { isExpired, type Robot, type RobotStore } from './robot-store.js';
import { publicAllows, roleAllows, roleById, strongestRole, type RoleId } from './roles.js';
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
 *
 * A refusal says why (the kernel hands the reason to the client and the log), but never more
 * than the caller may know: to anyone who may not see a private project, it reads exactly as
 * for a project that does not exist.
 */

const deny = (reason: string): Decision => ({ allow: false, reason });
const ALLOW: Decision = Object.freeze({ allow: true });
const REGISTRY_ACTIONS = ['pull', 'push', 'delete'] as const;

/**
 * The refusal for a project the caller cannot see, the same whether it exists or not: only
 * administrators (who see every project) learn that it does not exist.
 */
function unseen(name: string, principal: Principal): string {
  if (principal.admin) return `project "${name}" does not exist`;
  if (principal.kind === 'anonymous') return `project "${name}" does not exist or is private: log in`;
  if (principal.kind === 'robot') return `project "${name}" does not exist or this robot account has no permission in it`;
  return `project "${name}" does not exist or you are not a member of it`;
}

/** `your role in "demo" is guest: it may pull, not push`. */
function roleRefusal(role: RoleId, project: string, resource: string, action: string): string {
  const name = roleById(role)?.name ?? String(role);
  if (resource !== 'repository' || !(REGISTRY_ACTIONS as readonly string[]).includes(action)) {
    return `your role in "${project}" is ${name}: it may not ${action} ${resource}`;
  }
  const may = REGISTRY_ACTIONS.filter((a) => roleAllows(role, resource, a));
  return `your role in "${project}" is ${name}: it may ${may.length > 0 ? may.join(' and ') : 'do nothing here'}, not ${action}`;
}

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
      if (!mayAutoCreate || !onRegistry) return deny(unseen(name, principal));
      // The token service asks pull before push: refusing it would leave `docker push` with a
      // push-only token that cannot even check which blobs exist. There is nothing to pull yet.
      if (action === 'pull') return ALLOW;
      if (action !== 'push') return deny(unseen(name, principal));
      project = await this.autoCreate(name, principal);
      if (!project) return deny(`"${name}" is not a valid project name: lowercase letters and digits, single . _ or - between them`);
    }
    if (principal.admin) return ALLOW;
    if (principal.kind === 'robot') return this.decideForRobot(principal, project, resource, action);
    const role = principal.kind === 'user' ? await this.roleOf(principal, project) : undefined;
    if (role !== undefined && roleAllows(role, resource, action)) return ALLOW;
    if (project.public && publicAllows(resource, action)) return ALLOW;
    if (role !== undefined) return deny(roleRefusal(role, name, resource, action));
    if (!project.public) return deny(unseen(name, principal));
    const who = principal.kind === 'anonymous' ? 'log in as a member' : 'ask for a role in it';
    return deny(`project "${name}" is public: anyone may pull, to ${action} ${who}`);
  }

  private async decideForRobot(principal: Principal, project: Project, resource: string, action: string): Promise<Decision> {
    if (principal.provider !== this.options.provider) return deny('robot accounts of other providers have no permissions here');
    const robot = await this.robotCache.get(principal.subject, () => this.options.robots.getByName(principal.subject));
    if (!robot || robot.disabled || isExpired(robot, this.options.now?.())) return deny('robot account unknown, disabled or expired');
    // A system robot's entries for this project and for `*` add up.
    const covering = robot.level === 'project' && robot.projectId !== project.id ? [] : robot.permissions.filter((p) => p.namespace === project.name || p.namespace === '*');
    if (covering.some((p) => p.access.some((a) => a.resource === resource && a.action === action))) return ALLOW;
    // A private project the robot holds nothing in stays invisible to it.
    if (covering.length === 0) return deny(project.public ? `this robot account has no permission in project "${project.name}"` : unseen(project.name, principal));
    return deny(`this robot account has no ${resource}:${action} permission in "${project.name}"`);
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
