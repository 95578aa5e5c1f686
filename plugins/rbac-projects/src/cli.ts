import { CliRefusal, defineCliCommand, formatTable, type CliCall, type CliCommandGroup } from '@wharf/sdk';
import { ProjectsError } from './errors.js';
import type { Robot, RobotAccess } from './robot-store.js';
import { projectsServiceRef, type ProjectsService } from './services.js';

/**
 * `wharf project create|list` and `wharf robot create|list|delete`: the plugin's projects and
 * robots on the configured database, through the SDK's CLI capability. A robot's secret is
 * printed once, on create.
 */

type Run = (svc: ProjectsService, call: CliCall) => Promise<number>;

/** The stores' refusals (unknown project, taken name...) become one-line CLI refusals. */
const refusing =
  (run: Run) =>
  async ({ svc }: { svc: ProjectsService }, call: CliCall): Promise<number> => {
    try {
      return await run(svc, call);
    } catch (err) {
      if (err instanceof ProjectsError) throw new CliRefusal(err.code, err.message);
      throw err;
    }
  };

async function allPages<T>(list: (page: number, pageSize: number) => Promise<{ readonly items: readonly T[]; readonly total: number }>): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const { items, total } = await list(page, 100);
    out.push(...items);
    if (items.length === 0 || out.length >= total) return out;
  }
}

/** The bootstrap administrator's default name (`auth: [{ db: { bootstrapAdmin: { username } } }]`). */
export const DEFAULT_CLI_OWNER = 'admin';

const yesNo = (b: boolean) => (b ? 'yes' : 'no');
const json = { flags: '--json', description: 'print JSON instead of a table' };
const deps = { svc: projectsServiceRef };
const text = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** `pull,push` → repository access entries (push needs pull: added for the operator). */
export function parseRobotAccess(list: string): RobotAccess[] {
  const actions = new Set(
    list
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
  );
  for (const a of actions) if (!['pull', 'push', 'delete'].includes(a)) throw new CliRefusal('ROBOT_PERMISSIONS_INVALID', `unknown action "${a}" (pull, push, delete)`);
  if (actions.has('push')) actions.add('pull');
  if (actions.size === 0) throw new CliRefusal('ROBOT_PERMISSIONS_INVALID', 'give at least one action with --access (pull, push, delete)');
  return ['pull', 'push', 'delete'].filter((a) => actions.has(a)).map((action) => ({ resource: 'repository', action }) as RobotAccess);
}

const projectCreate = defineCliCommand({
  usage: 'create <name>',
  description: 'create a project (private unless --public), owned by an administrator',
  options: [
    { flags: '--public', description: 'anyone, anonymous included, may pull' },
    {
      flags: '--owner <user>',
      description: `the administrator recorded as its owner, who becomes its project admin (default: ${DEFAULT_CLI_OWNER}, the bootstrapped administrator)`,
      default: DEFAULT_CLI_OWNER,
    },
  ],
  deps,
  run: refusing(async (svc, { args: [name = ''], options, stdout }) => {
    const owner = text(options['owner']) ?? DEFAULT_CLI_OWNER;
    // The CLI runs on the registry's host, as its operator: a project it creates is owned like
    // one an administrator creates through the API (owner and project admin), never by nobody.
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(owner)) throw new CliRefusal('PROJECT_OWNER_INVALID', `--owner "${owner.slice(0, 100)}" is not a user name`);
    const project = await svc.projects.create(name, { public: options['public'] === true, owner });
    stdout(`project ${project.name} created (${project.public ? 'public' : 'private'}, owner ${owner})`);
    return 0;
  }),
});

const projectList = defineCliCommand({
  usage: 'list',
  description: 'list the projects: name, public, owner, created',
  options: [json],
  deps,
  run: refusing(async (svc, { options, stdout }) => {
    const all = await allPages((page, pageSize) => svc.projects.list({ page, pageSize }));
    if (options['json'] === true) {
      stdout(JSON.stringify(all.map((p) => ({ name: p.name, public: p.public, owner: p.owner, createdAt: p.createdAt.toISOString() })), null, 2));
      return 0;
    }
    stdout(formatTable(['NAME', 'PUBLIC', 'OWNER', 'CREATED'], all.map((p) => [p.name, yesNo(p.public), p.owner ?? '-', p.createdAt.toISOString()])));
    return 0;
  }),
});

const robotCreate = defineCliCommand({
  usage: 'create <name>',
  description: 'create a robot; its secret is printed once',
  options: [
    { flags: '--project <project>', description: 'a project robot of this project (robot$<project>+<name>)' },
    { flags: '--projects <list>', description: 'a system robot over these projects (comma-separated, or * for all)' },
    { flags: '--access <actions>', description: 'repository actions: pull, push, delete (comma-separated; push implies pull)', default: 'pull' },
    { flags: '--days <days>', description: 'lifetime in days, -1 for never (default: rbac.projects.robotDefaultDays)' },
    { flags: '--description <text>', description: 'what the robot is for' },
    { flags: '--json', description: 'print {name, secret, expiresAt} as JSON' },
  ],
  deps,
  run: refusing(async (svc, { args: [name = ''], options, stdout }) => {
    const access = parseRobotAccess(text(options['access']) ?? 'pull');
    const daysOption = text(options['days']);
    const days = daysOption === undefined ? svc.robotDefaultDays : Number(daysOption);
    if (!Number.isInteger(days) || days < -1 || days === 0) throw new CliRefusal(undefined, '--days must be a positive number of days, or -1 for never');
    const description = text(options['description']) ?? '';
    const projectName = text(options['project']);
    let created: { robot: Robot; secret: string };
    if (projectName) {
      const project = await svc.projects.require(projectName);
      created = await svc.robots.create(
        { level: 'project', project: project.name, name, description, permissions: [{ kind: 'project', namespace: project.name, access }], durationDays: days, creator: 'cli' },
        project.id,
      );
    } else {
      const projects = text(options['projects']);
      if (!projects) throw new CliRefusal(undefined, 'give --project NAME for a project robot, or --projects a,b|* for a system robot');
      const namespaces = projects.split(',').map((p) => p.trim()).filter(Boolean);
      for (const ns of namespaces) if (ns !== '*') await svc.projects.require(ns);
      created = await svc.robots.create(
        { level: 'system', name, description, permissions: namespaces.map((namespace) => ({ kind: 'project', namespace, access })), durationDays: days, creator: 'cli' },
        null,
      );
    }
    const { robot, secret } = created;
    if (options['json'] === true) {
      stdout(JSON.stringify({ name: robot.name, secret, expiresAt: robot.expiresAt?.toISOString() ?? null }));
    } else {
      stdout(`robot ${robot.name} created; expires ${robot.expiresAt?.toISOString() ?? 'never'}`);
      stdout(`secret (shown once): ${secret}`);
    }
    return 0;
  }),
});

const robotList = defineCliCommand({
  usage: 'list',
  description: 'list robots: system robots, or those of --project',
  options: [{ flags: '--project <project>', description: 'the robots of this project' }, json],
  deps,
  run: refusing(async (svc, { options, stdout }) => {
    const projectName = text(options['project']);
    const projectId = projectName ? (await svc.projects.require(projectName)).id : null;
    const all = await allPages((page, pageSize) => svc.robots.list(projectId, { page, pageSize }));
    const describe = (r: Robot) => r.permissions.map((p) => `${p.namespace}:${p.access.map((a) => a.action).join(',')}`).join(' ');
    if (options['json'] === true) {
      stdout(JSON.stringify(all.map((r) => ({ name: r.name, level: r.level, permissions: r.permissions, expiresAt: r.expiresAt?.toISOString() ?? null, disabled: r.disabled })), null, 2));
      return 0;
    }
    stdout(formatTable(['NAME', 'PERMISSIONS', 'EXPIRES', 'DISABLED'], all.map((r) => [r.name, describe(r), r.expiresAt?.toISOString() ?? 'never', yesNo(r.disabled)])));
    return 0;
  }),
});

const robotDelete = defineCliCommand({
  usage: 'delete <name>',
  description: 'delete a robot by its full name',
  deps,
  run: refusing(async (svc, { args: [name = ''], stdout }) => {
    const robot = await svc.robots.getByName(name);
    if (!robot) throw new CliRefusal('ROBOT_UNKNOWN', `no robot "${name}" (robot names look like ${svc.robotPrefix}<project>+<name>)`);
    await svc.robots.delete(robot);
    stdout(`robot ${robot.name} deleted`);
    return 0;
  }),
});

/** `wharf project ...` and `wharf robot ...`, contributed by the plugin. */
export const projectsCommands: readonly CliCommandGroup[] = Object.freeze([
  { name: 'project', description: 'manage projects of the projects RBAC plugin (rbac: { projects: {} })', commands: [projectCreate, projectList] },
  { name: 'robot', description: 'manage robot accounts of the projects RBAC plugin', commands: [robotCreate, robotList, robotDelete] },
]);
