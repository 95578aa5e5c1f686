import { orderBySort, type ApiSortKey, type DatabaseService, type Knex } from '@wharf/sdk';
import { ProjectsError } from './errors.js';
import { TABLES } from './migrations.js';
import { isMemberName, isProjectName } from './names.js';
import { roleById, type RoleId } from './roles.js';

/**
 * Projects, their members (users or groups with one of the five roles) and user groups, in the
 * registry database. Names are the keys the rest of Wharf uses: a repository's first segment is a
 * project name; a member is a principal subject or a group name from `principal.groups`.
 */

export interface Project {
  readonly id: number;
  readonly name: string;
  readonly public: boolean;
  readonly owner: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type MemberKind = 'user' | 'group';

export interface Member {
  readonly id: number;
  readonly projectId: number;
  readonly kind: MemberKind;
  readonly name: string;
  readonly role: RoleId;
  readonly createdAt: Date;
}

export type GroupType = 'ldap' | 'http' | 'oidc' | 'local';
export const GROUP_TYPES: readonly GroupType[] = ['ldap', 'http', 'oidc', 'local'];

export interface UserGroup {
  readonly id: number;
  readonly name: string;
  readonly type: GroupType;
  readonly externalId: string | null;
  readonly createdAt: Date;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
}

export interface PageOptions {
  readonly page?: number;
  readonly pageSize?: number;
  /** `sort=` keys over the list's {@link SORTS} fields; empty: the list's default order. */
  readonly sort?: readonly ApiSortKey[] | undefined;
}

/** What each list sorts by (API field to column); ties break on `id`. */
export const SORTS = Object.freeze({
  projects: { name: 'name', createdAt: 'created_at', updatedAt: 'updated_at' },
  members: { name: 'name', kind: 'kind', roleId: 'role', createdAt: 'created_at' },
  groups: { name: 'name', type: 'type', createdAt: 'created_at' },
  robots: { name: 'name', createdAt: 'created_at', updatedAt: 'updated_at' },
} satisfies Record<string, Record<string, string>>);

const BY_NAME: readonly ApiSortKey[] = [{ field: 'name', descending: false }];

export interface ProjectFilter extends PageOptions {
  /** Exact name, or a substring with `fuzzy`. */
  readonly name?: { readonly value: string; readonly fuzzy: boolean };
  readonly public?: boolean;
  /** Only public projects and those where one of these members (kind + name) has a role. */
  readonly visibleTo?: readonly { readonly kind: MemberKind; readonly name: string }[];
}

type Row = Record<string, unknown>;
const time = (v: unknown) => new Date(Number(v));
const bool = (v: unknown) => v === true || v === 1 || v === '1';

function toProject(r: Row): Project {
  return { id: Number(r.id), name: String(r.name), public: bool(r.public), owner: (r.owner as string | null) ?? null, createdAt: time(r.created_at), updatedAt: time(r.updated_at) };
}
function toMember(r: Row): Member {
  return { id: Number(r.id), projectId: Number(r.project_id), kind: r.kind as MemberKind, name: String(r.name), role: Number(r.role) as RoleId, createdAt: time(r.created_at) };
}
function toGroup(r: Row): UserGroup {
  return { id: Number(r.id), name: String(r.name), type: r.type as GroupType, externalId: (r.external_id as string | null) ?? null, createdAt: time(r.created_at) };
}

/**
 * A LIKE pattern matching `value` anywhere, with `%` and `_` matching themselves. The escape
 * character is `!`: a backslash reads differently in MySQL and PostgreSQL string literals.
 */
export function likeContains(value: string): string {
  return `%${value.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/** Exact or substring match of a name column; the escape is explicit (SQLite has no default). */
export function whereName(query: Knex.QueryBuilder, column: string, filter: { value: string; fuzzy: boolean } | undefined): void {
  if (!filter) return;
  if (filter.fuzzy) query.whereRaw("?? like ? escape '!'", [column, likeContains(filter.value)]);
  else query.where(column, filter.value);
}

function bounds(options: PageOptions): { limit: number; offset: number } {
  const pageSize = Math.min(Math.max(options.pageSize ?? 10, 1), 100);
  const page = Math.max(options.page ?? 1, 1);
  return { limit: pageSize, offset: (page - 1) * pageSize };
}

function checkGroupName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 255 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ProjectsError('GROUP_NAME_INVALID', 'a group name has 1 to 255 printable characters');
  }
}

export class ProjectStore {
  /**
   * @param onChange called after every write, so caches of access decisions (the authorizer's)
   *   drop what they read before.
   */
  constructor(
    private readonly db: DatabaseService,
    private readonly onChange: () => void = () => undefined,
  ) {}

  private get knex(): Knex {
    return this.db.knex;
  }

  /** Creates the default public project unless it exists (several nodes may race: fine). */
  async ensurePublic(name: string): Promise<boolean> {
    if (await this.get(name)) return false;
    try {
      await this.create(name, { public: true });
      return true;
    } catch (err) {
      if (err instanceof ProjectsError && err.code === 'PROJECT_EXISTS') return false;
      throw err;
    }
  }

  async create(name: string, options: { public?: boolean; owner?: string | null; ownerRole?: RoleId } = {}): Promise<Project> {
    if (!isProjectName(name)) {
      throw new ProjectsError(
        'PROJECT_NAME_INVALID',
        `"${String(name).slice(0, 300)}" is not a valid project name: lowercase letters and digits, single . _ or - between them, at most 255 characters`,
      );
    }
    const now = Date.now();
    try {
      await this.knex.transaction(async (trx) => {
        await trx(TABLES.projects).insert({ name, public: options.public ?? false, owner: options.owner ?? null, created_at: now, updated_at: now });
        if (options.owner) {
          const row = (await trx(TABLES.projects).where({ name }).first('id')) as Row;
          await trx(TABLES.members).insert({ project_id: row.id, kind: 'user', name: options.owner, role: options.ownerRole ?? 1, created_at: now });
        }
      });
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new ProjectsError('PROJECT_EXISTS', `project "${name}" already exists`);
      throw err;
    }
    this.onChange();
    return (await this.get(name))!;
  }

  async get(name: string): Promise<Project | undefined> {
    const row = (await this.knex(TABLES.projects).where({ name }).first()) as Row | undefined;
    return row ? toProject(row) : undefined;
  }

  async require(name: string): Promise<Project> {
    const project = await this.get(name);
    if (!project) throw new ProjectsError('PROJECT_UNKNOWN', `project "${name}" not found`);
    return project;
  }

  /**
   * Names and visibility of the projects these members (or, without `visibleTo`, anyone with
   * every project) may see, in name order: one query, no count. What a registry-wide search
   * filters on; `limit` bounds it (none: every visible project).
   */
  async listVisible(filter: { readonly contains?: string | undefined; readonly visibleTo?: ProjectFilter['visibleTo']; readonly limit?: number | undefined }): Promise<{ name: string; public: boolean }[]> {
    const query = this.knex(TABLES.projects);
    if (filter.contains) whereName(query, 'name', { value: filter.contains.toLowerCase(), fuzzy: true });
    if (filter.visibleTo) this.whereVisible(query, filter.visibleTo);
    query.orderBy('name').select('name', 'public');
    if (filter.limit !== undefined) query.limit(filter.limit);
    return ((await query) as Row[]).map((r) => ({ name: String(r.name), public: bool(r.public) }));
  }

  /** Public projects and those where one of `members` has a role (the member subquery is indexed). */
  private whereVisible(query: Knex.QueryBuilder, members: NonNullable<ProjectFilter['visibleTo']>): void {
    query.where((q) => {
      q.where('public', true);
      if (members.length > 0) {
        q.orWhereIn(
          'id',
          this.knex(TABLES.members)
            .select('project_id')
            .where((m) => {
              const users = members.filter((w) => w.kind === 'user').map((w) => w.name);
              const groups = members.filter((w) => w.kind === 'group').map((w) => w.name);
              if (users.length > 0) m.orWhere((one) => one.where({ kind: 'user' }).whereIn('name', users));
              if (groups.length > 0) m.orWhere((one) => one.where({ kind: 'group' }).whereIn('name', groups));
            }),
        );
      }
    });
  }

  async list(filter: ProjectFilter = {}): Promise<Page<Project>> {
    const query = this.knex(TABLES.projects);
    whereName(query, 'name', filter.name);
    if (filter.public !== undefined) query.where('public', filter.public);
    if (filter.visibleTo) this.whereVisible(query, filter.visibleTo);
    const [{ total } = { total: 0 }] = (await query.clone().count({ total: '*' })) as { total: number | string }[];
    const { limit, offset } = bounds(filter);
    const rows = (await orderBySort(query, filter.sort ?? [], SORTS.projects, { fallback: BY_NAME }).limit(limit).offset(offset).select()) as Row[];
    return { items: rows.map(toProject), total: Number(total) };
  }

  async setPublic(name: string, isPublic: boolean): Promise<Project> {
    const changed = await this.knex(TABLES.projects).where({ name }).update({ public: isPublic, updated_at: Date.now() });
    if (changed === 0) throw new ProjectsError('PROJECT_UNKNOWN', `project "${name}" not found`);
    this.onChange();
    return (await this.get(name))!;
  }

  /**
   * Deletes the project with its members and its project robots, and takes the project out of
   * system robots' permissions, so a project created later under the same name starts clean.
   * (The caller checked that the project holds no repositories.)
   */
  async delete(name: string): Promise<void> {
    await this.knex.transaction(async (trx) => {
      const row = (await trx(TABLES.projects).where({ name }).first('id')) as Row | undefined;
      if (!row) throw new ProjectsError('PROJECT_UNKNOWN', `project "${name}" not found`);
      // Explicit, not ON DELETE CASCADE: SQLite enforces foreign keys only when asked to.
      await trx(TABLES.members).where({ project_id: row.id }).delete();
      await trx(TABLES.robots).where({ project_id: row.id }).delete();
      const systemRobots = (await trx(TABLES.robots).where({ level: 'system' }).select('id', 'permissions')) as Row[];
      for (const robot of systemRobots) {
        const permissions = JSON.parse(String(robot.permissions)) as { namespace: string }[];
        const kept = permissions.filter((p) => p.namespace !== name);
        if (kept.length !== permissions.length) await trx(TABLES.robots).where({ id: robot.id }).update({ permissions: JSON.stringify(kept), updated_at: Date.now() });
      }
      await trx(TABLES.projects).where({ id: row.id }).delete();
    });
    this.onChange();
  }

  // ---- members ----

  async addMember(project: string, kind: MemberKind, name: string, role: number): Promise<Member> {
    if (!roleById(role)) throw new ProjectsError('ROLE_UNKNOWN', `no role with id ${role} (1 Project Admin, 2 Developer, 3 Guest, 4 Maintainer, 5 Limited Guest)`);
    if (kind === 'user' && !isMemberName(name)) throw new ProjectsError('MEMBER_NAME_INVALID', 'a user name has 1 to 255 printable characters');
    const { id: projectId } = await this.require(project);
    if (kind === 'group' && !(await this.getGroupByName(name))) {
      throw new ProjectsError('GROUP_UNKNOWN', `no user group "${name}": create it with POST /api/v1/usergroups first`);
    }
    try {
      await this.knex(TABLES.members).insert({ project_id: projectId, kind, name, role, created_at: Date.now() });
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new ProjectsError('MEMBER_EXISTS', `${kind} "${name}" is already a member of "${project}"`);
      throw err;
    }
    this.onChange();
    const row = (await this.knex(TABLES.members).where({ project_id: projectId, kind, name }).first()) as Row;
    return toMember(row);
  }

  async listMembers(project: string, options: PageOptions & { name?: { value: string; fuzzy: boolean } } = {}): Promise<Page<Member>> {
    const { id } = await this.require(project);
    const query = this.knex(TABLES.members).where({ project_id: id });
    whereName(query, 'name', options.name);
    const [{ total } = { total: 0 }] = (await query.clone().count({ total: '*' })) as { total: number | string }[];
    const { limit, offset } = bounds(options);
    const byKindAndName = [{ field: 'kind', descending: false }, ...BY_NAME];
    const rows = (await orderBySort(query, options.sort ?? [], SORTS.members, { fallback: byKindAndName }).limit(limit).offset(offset).select()) as Row[];
    return { items: rows.map(toMember), total: Number(total) };
  }

  async getMember(project: string, memberId: number): Promise<Member> {
    const { id } = await this.require(project);
    const row = (await this.knex(TABLES.members).where({ project_id: id, id: memberId }).first()) as Row | undefined;
    if (!row) throw new ProjectsError('MEMBER_UNKNOWN', `no member ${memberId} in "${project}"`);
    return toMember(row);
  }

  async setMemberRole(project: string, memberId: number, role: number): Promise<Member> {
    if (!roleById(role)) throw new ProjectsError('ROLE_UNKNOWN', `no role with id ${role}`);
    const member = await this.getMember(project, memberId);
    await this.knex(TABLES.members).where({ id: member.id }).update({ role });
    this.onChange();
    return { ...member, role: role as RoleId };
  }

  async removeMember(project: string, memberId: number): Promise<void> {
    const member = await this.getMember(project, memberId);
    await this.knex(TABLES.members).where({ id: member.id }).delete();
    this.onChange();
  }

  /** The roles the given members (a user and their groups) hold in a project: one indexed query. */
  async rolesIn(projectId: number, who: readonly { kind: MemberKind; name: string }[]): Promise<RoleId[]> {
    const users = who.filter((w) => w.kind === 'user').map((w) => w.name);
    const groups = who.filter((w) => w.kind === 'group').map((w) => w.name);
    if (users.length === 0 && groups.length === 0) return [];
    const rows = (await this.knex(TABLES.members)
      .where({ project_id: projectId })
      .where((q) => {
        if (users.length > 0) q.orWhere((one) => one.where({ kind: 'user' }).whereIn('name', users));
        if (groups.length > 0) q.orWhere((one) => one.where({ kind: 'group' }).whereIn('name', groups));
      })
      .select('role')) as Row[];
    return rows.map((r) => Number(r.role) as RoleId);
  }

  // ---- user groups ----

  async createGroup(name: string, type: GroupType, externalId: string | null = null): Promise<UserGroup> {
    checkGroupName(name);
    if (!GROUP_TYPES.includes(type)) throw new ProjectsError('GROUP_NAME_INVALID', `unknown group type "${String(type)}" (${GROUP_TYPES.join(', ')})`);
    try {
      await this.knex(TABLES.groups).insert({ name, type, external_id: externalId, created_at: Date.now() });
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new ProjectsError('GROUP_EXISTS', `user group "${name}" already exists`);
      throw err;
    }
    return (await this.getGroupByName(name))!;
  }

  async getGroupByName(name: string): Promise<UserGroup | undefined> {
    const row = (await this.knex(TABLES.groups).where({ name }).first()) as Row | undefined;
    return row ? toGroup(row) : undefined;
  }

  async getGroup(id: number): Promise<UserGroup> {
    const row = (await this.knex(TABLES.groups).where({ id }).first()) as Row | undefined;
    if (!row) throw new ProjectsError('GROUP_UNKNOWN', `no user group ${id}`);
    return toGroup(row);
  }

  async listGroups(options: PageOptions & { name?: { value: string; fuzzy: boolean } } = {}): Promise<Page<UserGroup>> {
    const query = this.knex(TABLES.groups);
    whereName(query, 'name', options.name);
    const [{ total } = { total: 0 }] = (await query.clone().count({ total: '*' })) as { total: number | string }[];
    const { limit, offset } = bounds(options);
    const rows = (await orderBySort(query, options.sort ?? [], SORTS.groups, { fallback: BY_NAME }).limit(limit).offset(offset).select()) as Row[];
    return { items: rows.map(toGroup), total: Number(total) };
  }

  /** Renames a group (its memberships follow) or changes its external id. */
  async updateGroup(id: number, changes: { name?: string; externalId?: string | null }): Promise<UserGroup> {
    if (changes.name !== undefined) checkGroupName(changes.name);
    try {
      await this.knex.transaction(async (trx) => {
        const row = (await trx(TABLES.groups).where({ id }).first()) as Row | undefined;
        if (!row) throw new ProjectsError('GROUP_UNKNOWN', `no user group ${id}`);
        const patch: Row = {};
        if (changes.externalId !== undefined) patch.external_id = changes.externalId;
        if (changes.name !== undefined && changes.name !== row.name) {
          patch.name = changes.name;
          await trx(TABLES.members).where({ kind: 'group', name: row.name }).update({ name: changes.name });
        }
        if (Object.keys(patch).length > 0) await trx(TABLES.groups).where({ id }).update(patch);
      });
    } catch (err) {
      if (this.db.isUniqueViolation(err)) throw new ProjectsError('GROUP_EXISTS', `user group "${changes.name}" already exists`);
      throw err;
    }
    this.onChange();
    return this.getGroup(id);
  }

  /** Deletes the group and its memberships. */
  async deleteGroup(id: number): Promise<void> {
    const group = await this.getGroup(id);
    await this.knex.transaction(async (trx) => {
      await trx(TABLES.members).where({ kind: 'group', name: group.name }).delete();
      await trx(TABLES.groups).where({ id }).delete();
    });
    this.onChange();
  }
}
