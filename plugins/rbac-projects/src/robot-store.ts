import { createHash, randomBytes } from 'node:crypto';
import { hashSecret, MalformedHashError, orderBySort, verifyNothing, verifySecret, type DatabaseService, type Knex } from '@wharf/sdk';
import { ProjectsError } from './errors.js';
import { TABLES } from './migrations.js';
import { isProjectName, isRobotShortName, robotFullName } from './names.js';
import { SORTS, whereName, type Page, type PageOptions } from './project-store.js';
import { robotMayHave } from './roles.js';

/**
 * Robot accounts (Harbor's model): system robots cover several projects or all (`*`, future
 * ones included), project robots one project. Permissions are explicit resource/action pairs
 * per project. The secret is shown once, at creation or refresh, and stored as an scrypt hash.
 */

export interface RobotAccess {
  readonly resource: string;
  readonly action: string;
}

export interface RobotPermission {
  readonly kind: 'project';
  /** A project name, or `*` for every project (system robots only). */
  readonly namespace: string;
  readonly access: readonly RobotAccess[];
}

export type RobotLevel = 'system' | 'project';

export interface Robot {
  readonly id: number;
  /** The full name, used as the login: `robot$proj+ci`. */
  readonly name: string;
  readonly level: RobotLevel;
  readonly projectId: number | null;
  readonly description: string;
  readonly permissions: readonly RobotPermission[];
  readonly expiresAt: Date | null;
  readonly disabled: boolean;
  readonly creator: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /**
   * Names the current secret without revealing it (a hash of its stored hash): logins carry it
   * as a claim, so tokens and cached logins of a replaced secret are told apart and refused.
   */
  readonly secretFingerprint: string;
}

export interface CreateRobotInput {
  readonly level: RobotLevel;
  /** Required for project robots. */
  readonly project?: string;
  /** The short name; the stored name gets the prefix (and the project). */
  readonly name: string;
  readonly description?: string;
  readonly permissions: readonly RobotPermission[];
  /** Days until expiry; -1 = never. */
  readonly durationDays: number;
  readonly creator: string;
}

export type RobotCheck = { ok: true; robot: Robot } | { ok: false; reason: 'unknown' | 'disabled' | 'expired' | 'secret' };

type Row = Record<string, unknown>;
const DAY_MS = 86_400_000;

function toRobot(r: Row): Robot {
  return {
    id: Number(r.id),
    name: String(r.name),
    level: r.level as RobotLevel,
    projectId: r.project_id === null || r.project_id === undefined ? null : Number(r.project_id),
    description: String(r.description ?? ''),
    permissions: JSON.parse(String(r.permissions)) as RobotPermission[],
    expiresAt: r.expires_at === null || r.expires_at === undefined ? null : new Date(Number(r.expires_at)),
    disabled: r.disabled === true || r.disabled === 1 || r.disabled === '1',
    creator: String(r.creator),
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
    secretFingerprint: secretFingerprint(String(r.secret_hash ?? '')),
  };
}

export function secretFingerprint(storedHash: string): string {
  return createHash('sha256').update('wharf-robot-secret:').update(storedHash).digest('base64url').slice(0, 22);
}

export function isExpired(robot: Robot, now = Date.now()): boolean {
  return robot.expiresAt !== null && robot.expiresAt.getTime() <= now;
}

function checkDuration(days: number): void {
  if (days !== -1 && !(Number.isInteger(days) && days >= 1 && days <= 36500)) {
    throw new ProjectsError('ROBOT_DURATION_INVALID', `a robot lives 1 to 36500 days, or -1 for ever; not ${String(days)}`);
  }
}

/** A fresh secret: 32 characters of base64url (192 bits). */
export function generateRobotSecret(): string {
  return randomBytes(24).toString('base64url');
}

/** Checks a permission list against the robot's level and project; returns it normalised. */
export function checkPermissions(level: RobotLevel, project: string | undefined, permissions: readonly RobotPermission[]): RobotPermission[] {
  const bad = (why: string) => new ProjectsError('ROBOT_PERMISSIONS_INVALID', why);
  if (permissions.length === 0) throw bad('a robot needs at least one permission');
  const seen = new Set<string>();
  return permissions.map((p) => {
    if (p.kind !== 'project') throw bad(`unknown permission kind "${String(p.kind)}"`);
    if (level === 'project' && p.namespace !== project) throw bad(`a project robot of "${project}" can only have permissions in "${project}"`);
    if (p.namespace !== '*' && !isProjectName(p.namespace)) throw bad(`"${p.namespace}" is not a project name or *`);
    if (seen.has(p.namespace)) throw bad(`project "${p.namespace}" is listed twice`);
    seen.add(p.namespace);
    if (p.access.length === 0) throw bad(`no access listed for "${p.namespace}"`);
    for (const a of p.access) {
      if (!robotMayHave(a.resource, a.action)) throw bad(`robots cannot be given ${a.resource}:${a.action}`);
    }
    const has = (resource: string, action: string) => p.access.some((a) => a.resource === resource && a.action === action);
    if (has('repository', 'push') && !has('repository', 'pull')) throw bad('repository:push needs repository:pull too');
    const unique = [...new Map(p.access.map((a) => [`${a.resource}:${a.action}`, { resource: a.resource, action: a.action }])).values()];
    return { kind: 'project', namespace: p.namespace, access: unique };
  });
}

export class RobotStore {
  /**
   * @param prefix of robot names (`robot$`).
   * @param onChange called after every write, so cached access decisions are dropped.
   */
  constructor(
    private readonly db: DatabaseService,
    readonly prefix: string,
    private readonly onChange: () => void = () => undefined,
  ) {}

  private get knex(): Knex {
    return this.db.knex;
  }

  /** Permissions may only name projects that exist (or `*`). */
  private async checkProjectsExist(permissions: readonly RobotPermission[]): Promise<void> {
    const named = permissions.map((p) => p.namespace).filter((n) => n !== '*');
    if (named.length === 0) return;
    const rows = (await this.knex(TABLES.projects).whereIn('name', named).select('name')) as Row[];
    const found = new Set(rows.map((r) => String(r.name)));
    const missing = named.filter((n) => !found.has(n));
    if (missing.length > 0) throw new ProjectsError('ROBOT_PERMISSIONS_INVALID', `project "${missing[0]}" does not exist`);
  }

  /** Creates the robot and returns it with its secret, which is never readable again. */
  async create(input: CreateRobotInput, projectId: number | null): Promise<{ robot: Robot; secret: string }> {
    if (!isRobotShortName(input.name)) {
      throw new ProjectsError('ROBOT_NAME_INVALID', `"${input.name}" is not a valid robot name: lowercase letters, digits and . _ -, at most 64 characters`);
    }
    if (input.level === 'project' && (projectId === null || !input.project)) throw new ProjectsError('PROJECT_UNKNOWN', 'a project robot needs a project');
    checkDuration(input.durationDays);
    const permissions = checkPermissions(input.level, input.project, input.permissions);
    await this.checkProjectsExist(permissions);
    const name = robotFullName(this.prefix, input.name, input.level === 'project' ? input.project! : null);
    const secret = generateRobotSecret();
    const now = Date.now();
    try {
      await this.knex(TABLES.robots).insert({
        name,
        level: input.level,
        project_id: input.level === 'project' ? projectId : null,
        description: input.description ?? '',
        secret_hash: await hashSecret(secret),
        permissions: JSON.stringify(permissions),
        expires_at: input.durationDays === -1 ? null : now + input.durationDays * DAY_MS,
        disabled: false,
        creator: input.creator,
        created_at: now,
        updated_at: now,
      });
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new ProjectsError('ROBOT_EXISTS', `robot "${name}" already exists`);
      throw err;
    }
    this.onChange();
    return { robot: (await this.getByName(name))!, secret };
  }

  async getByName(name: string): Promise<Robot | undefined> {
    const row = (await this.knex(TABLES.robots).where({ name }).first()) as Row | undefined;
    return row ? toRobot(row) : undefined;
  }

  /** A robot by id, within a project (project robots) or among system robots (`projectId` null). */
  async get(id: number, projectId: number | null): Promise<Robot> {
    const query = this.knex(TABLES.robots).where({ id });
    if (projectId === null) query.where({ level: 'system' });
    else query.where({ project_id: projectId });
    const row = (await query.first()) as Row | undefined;
    if (!row) throw new ProjectsError('ROBOT_UNKNOWN', `no robot ${id}${projectId === null ? ' at system level' : ' in this project'}`);
    return toRobot(row);
  }

  async list(projectId: number | null, options: PageOptions & { name?: { value: string; fuzzy: boolean } } = {}): Promise<Page<Robot>> {
    const query = this.knex(TABLES.robots);
    if (projectId === null) query.where({ level: 'system' });
    else query.where({ project_id: projectId });
    whereName(query, 'name', options.name);
    const [{ total } = { total: 0 }] = (await query.clone().count({ total: '*' })) as { total: number | string }[];
    const pageSize = Math.min(Math.max(options.pageSize ?? 10, 1), 100);
    const ordered = orderBySort(query, options.sort ?? [], SORTS.robots, { fallback: [{ field: 'name', descending: false }] });
    const rows = (await ordered.limit(pageSize).offset((Math.max(options.page ?? 1, 1) - 1) * pageSize).select()) as Row[];
    return { items: rows.map(toRobot), total: Number(total) };
  }

  async update(
    robot: Robot,
    projectName: string | undefined,
    changes: { description?: string; disabled?: boolean; permissions?: readonly RobotPermission[]; durationDays?: number },
  ): Promise<Robot> {
    if (changes.durationDays !== undefined) checkDuration(changes.durationDays);
    const patch: Row = { updated_at: Date.now() };
    if (changes.description !== undefined) patch.description = changes.description;
    if (changes.disabled !== undefined) patch.disabled = changes.disabled;
    if (changes.permissions !== undefined) {
      const permissions = checkPermissions(robot.level, projectName, changes.permissions);
      await this.checkProjectsExist(permissions);
      patch.permissions = JSON.stringify(permissions);
    }
    if (changes.durationDays !== undefined) patch.expires_at = changes.durationDays === -1 ? null : robot.createdAt.getTime() + changes.durationDays * DAY_MS;
    await this.knex(TABLES.robots).where({ id: robot.id }).update(patch);
    this.onChange();
    return (await this.getByName(robot.name))!;
  }

  /** A new secret replaces the old one at once; returned once. */
  async refreshSecret(robot: Robot): Promise<string> {
    const secret = generateRobotSecret();
    await this.knex(TABLES.robots).where({ id: robot.id }).update({ secret_hash: await hashSecret(secret), updated_at: Date.now() });
    this.onChange();
    return secret;
  }

  async delete(robot: Robot): Promise<void> {
    await this.knex(TABLES.robots).where({ id: robot.id }).delete();
    this.onChange();
  }

  /** Checks a login. Unknown names cost a hash too, so timing does not reveal which robots exist. */
  async verify(name: string, secret: string, now = Date.now()): Promise<RobotCheck> {
    const row = (await this.knex(TABLES.robots).where({ name }).first()) as Row | undefined;
    if (!row) {
      await verifyNothing(secret);
      return { ok: false, reason: 'unknown' };
    }
    const robot = toRobot(row);
    let matches: boolean;
    try {
      matches = await verifySecret(secret, String(row.secret_hash));
    } catch (err) {
      if (!(err instanceof MalformedHashError)) throw err;
      return { ok: false, reason: 'secret' };
    }
    if (!matches) return { ok: false, reason: 'secret' };
    if (robot.disabled) return { ok: false, reason: 'disabled' };
    if (isExpired(robot, now)) return { ok: false, reason: 'expired' };
    return { ok: true, robot };
  }
}
