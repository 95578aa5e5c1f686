import { createServiceRef } from '@wharf/sdk';
import { allPages, CliRefusal, formatTable, stdoutLine, withPluginService, type KernelCommandOptions } from './plugin-service.js';

/**
 * `wharf project create|list` and `wharf robot create|list|delete`: the projects RBAC plugin's
 * projects and robots on the configured database. A robot's secret is printed once, on create.
 */

interface CliProject {
  readonly id: number;
  readonly name: string;
  readonly public: boolean;
  readonly owner: string | null;
  readonly createdAt: Date;
}

interface CliRobotPermission {
  readonly kind: 'project';
  readonly namespace: string;
  readonly access: readonly { readonly resource: string; readonly action: string }[];
}

interface CliRobot {
  readonly id: number;
  readonly name: string;
  readonly level: 'system' | 'project';
  readonly projectId: number | null;
  readonly permissions: readonly CliRobotPermission[];
  readonly expiresAt: Date | null;
  readonly disabled: boolean;
}

type Paged<T> = Promise<{ readonly items: readonly T[]; readonly total: number }>;

/** The part of the plugin's `rbac-projects.service` these commands call. */
interface CliProjectsService {
  readonly projects: {
    create(name: string, options?: { public?: boolean; owner?: string | null }): Promise<CliProject>;
    require(name: string): Promise<CliProject>;
    list(options: { page: number; pageSize: number }): Paged<CliProject>;
  };
  readonly robots: {
    create(
      input: { level: 'system' | 'project'; project?: string; name: string; description?: string; permissions: CliRobotPermission[]; durationDays: number; creator: string },
      projectId: number | null,
    ): Promise<{ robot: CliRobot; secret: string }>;
    getByName(name: string): Promise<CliRobot | undefined>;
    list(projectId: number | null, options: { page: number; pageSize: number }): Paged<CliRobot>;
    delete(robot: CliRobot): Promise<void>;
  };
  readonly robotPrefix: string;
  readonly robotDefaultDays: number;
  readonly authorizer: { invalidate(): void };
}

const projectsRef = createServiceRef<CliProjectsService>({ id: 'rbac-projects.service' });

function withProjects(opts: KernelCommandOptions, fn: (svc: CliProjectsService) => Promise<number>): Promise<number> {
  return withPluginService(
    opts,
    {
      ref: projectsRef,
      plugin: { kind: 'rbac', id: 'projects' },
      howToConfigure: 'add `rbac: { projects: {} }` to the config file',
      refusalErrorName: 'ProjectsError',
    },
    fn,
  );
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

export function projectCreateCommand(name: string, opts: KernelCommandOptions & { readonly public?: boolean | undefined }): Promise<number> {
  return withProjects(opts, async (svc) => {
    const project = await svc.projects.create(name, { public: opts.public === true });
    stdoutLine(`project ${project.name} created (${project.public ? 'public' : 'private'})`);
    return 0;
  });
}

export function projectListCommand(opts: KernelCommandOptions & { readonly json?: boolean | undefined }): Promise<number> {
  return withProjects(opts, async (svc) => {
    const all = await allPages((page, pageSize) => svc.projects.list({ page, pageSize }));
    if (opts.json) {
      stdoutLine(JSON.stringify(all.map((p) => ({ name: p.name, public: p.public, owner: p.owner, createdAt: p.createdAt.toISOString() })), null, 2));
      return 0;
    }
    stdoutLine(formatTable(['NAME', 'PUBLIC', 'OWNER', 'CREATED'], all.map((p) => [p.name, yesNo(p.public), p.owner ?? '-', p.createdAt.toISOString()])));
    return 0;
  });
}

/** `pull,push` → repository access entries (push needs pull: added for the operator). */
export function parseRobotAccess(list: string): { resource: string; action: string }[] {
  const actions = new Set(
    list
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
  );
  for (const a of actions) if (!['pull', 'push', 'delete'].includes(a)) throw new CliRefusal('ROBOT_PERMISSIONS_INVALID', `unknown action "${a}" (pull, push, delete)`);
  if (actions.has('push')) actions.add('pull');
  if (actions.size === 0) throw new CliRefusal('ROBOT_PERMISSIONS_INVALID', 'give at least one action with --access (pull, push, delete)');
  return ['pull', 'push', 'delete'].filter((a) => actions.has(a)).map((action) => ({ resource: 'repository', action }));
}

export interface RobotCreateOptions extends KernelCommandOptions {
  /** Project robot of this project; else a system robot over `--projects`. */
  readonly project?: string | undefined;
  /** System robots: comma-separated projects, or `*`. */
  readonly projects?: string | undefined;
  readonly access?: string | undefined;
  readonly days?: string | undefined;
  readonly description?: string | undefined;
  readonly json?: boolean | undefined;
}

export function robotCreateCommand(name: string, opts: RobotCreateOptions): Promise<number> {
  return withProjects(opts, async (svc) => {
    const access = parseRobotAccess(opts.access ?? 'pull');
    const days = opts.days === undefined ? svc.robotDefaultDays : Number(opts.days);
    if (!Number.isInteger(days) || days < -1 || days === 0) throw new CliRefusal(undefined, '--days must be a positive number of days, or -1 for never');
    let created: { robot: CliRobot; secret: string };
    if (opts.project) {
      const project = await svc.projects.require(opts.project);
      created = await svc.robots.create(
        { level: 'project', project: project.name, name, description: opts.description ?? '', permissions: [{ kind: 'project', namespace: project.name, access }], durationDays: days, creator: 'cli' },
        project.id,
      );
    } else {
      if (!opts.projects) throw new CliRefusal(undefined, 'give --project NAME for a project robot, or --projects a,b|* for a system robot');
      const namespaces = opts.projects.split(',').map((p) => p.trim()).filter(Boolean);
      for (const ns of namespaces) if (ns !== '*') await svc.projects.require(ns);
      created = await svc.robots.create(
        { level: 'system', name, description: opts.description ?? '', permissions: namespaces.map((namespace) => ({ kind: 'project', namespace, access })), durationDays: days, creator: 'cli' },
        null,
      );
    }
    const { robot, secret } = created;
    if (opts.json) {
      stdoutLine(JSON.stringify({ name: robot.name, secret, expiresAt: robot.expiresAt?.toISOString() ?? null }));
    } else {
      stdoutLine(`robot ${robot.name} created; expires ${robot.expiresAt?.toISOString() ?? 'never'}`);
      stdoutLine(`secret (shown once): ${secret}`);
    }
    return 0;
  });
}

export function robotListCommand(opts: KernelCommandOptions & { readonly project?: string | undefined; readonly json?: boolean | undefined }): Promise<number> {
  return withProjects(opts, async (svc) => {
    const projectId = opts.project ? (await svc.projects.require(opts.project)).id : null;
    const all = await allPages((page, pageSize) => svc.robots.list(projectId, { page, pageSize }));
    const describe = (r: CliRobot) => r.permissions.map((p) => `${p.namespace}:${p.access.map((a) => a.action).join(',')}`).join(' ');
    if (opts.json) {
      stdoutLine(JSON.stringify(all.map((r) => ({ name: r.name, level: r.level, permissions: r.permissions, expiresAt: r.expiresAt?.toISOString() ?? null, disabled: r.disabled })), null, 2));
      return 0;
    }
    stdoutLine(formatTable(['NAME', 'PERMISSIONS', 'EXPIRES', 'DISABLED'], all.map((r) => [r.name, describe(r), r.expiresAt?.toISOString() ?? 'never', yesNo(r.disabled)])));
    return 0;
  });
}

export function robotDeleteCommand(name: string, opts: KernelCommandOptions): Promise<number> {
  return withProjects(opts, async (svc) => {
    const robot = await svc.robots.getByName(name);
    if (!robot) throw new CliRefusal('ROBOT_UNKNOWN', `no robot "${name}" (robot names look like ${svc.robotPrefix}<project>+<name>)`);
    await svc.robots.delete(robot);
    stdoutLine(`robot ${robot.name} deleted`);
    return 0;
  });
}
