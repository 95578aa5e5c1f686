import { createServiceRef, type DatabaseService, type Knex, type Logger } from '@wharf/sdk';
import { USERNAME_PATTERN, type PasswordPolicy } from './config.js';
import { authDbMigrations, MIGRATION_OWNER, USERS_TABLE } from './migrations.js';
import { hashPassword, MalformedHashError, verifyNothing, verifyPassword } from './password-hash.js';
import { passwordProblems } from './password-policy.js';

/**
 * The users of the `users` table: the {@link UserDirectory} service other plugins (an admin API,
 * a CLI) use to manage accounts, and what the `auth.authenticate` tap asks. User names are
 * lowercased when a user is created and compared exactly (case-sensitively) afterwards.
 */

/** A user as the directory shows it: never the password hash. */
export interface DbUser {
  readonly id: number;
  readonly username: string;
  readonly admin: boolean;
  readonly disabled: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly passwordChangedAt: Date;
}

/** Outcome of {@link UserDirectory.verify}. A disabled user with a wrong password is `wrong-password`. */
export type VerifyResult =
  | { readonly ok: true; readonly user: DbUser }
  | { readonly ok: false; readonly reason: 'unknown-user' | 'wrong-password' | 'disabled' };

export interface ListUsersOptions {
  /** 1-based; default 1. */
  readonly page?: number;
  /** 1 to 100; default 20. */
  readonly pageSize?: number;
  /** Keeps user names containing this text (case-insensitive, as names are lower case). */
  readonly q?: string;
}

export interface UserPage {
  readonly items: readonly DbUser[];
  /** Users matching `q`, over all pages. */
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
}

export type UserDirectoryErrorCode = 'USERNAME_INVALID' | 'PASSWORD_POLICY' | 'USER_EXISTS' | 'USER_UNKNOWN' | 'LAST_ADMIN';

/** A refused directory operation; `problems` lists the broken password rules for `PASSWORD_POLICY`. */
export class UserDirectoryError extends Error {
  readonly code: UserDirectoryErrorCode;
  readonly problems: readonly string[];

  constructor(code: UserDirectoryErrorCode, message: string, problems: readonly string[] = []) {
    super(message);
    this.name = 'UserDirectoryError';
    this.code = code;
    this.problems = problems;
  }
}

/** Local user accounts. */
export interface UserDirectory {
  /** Creates a user; the name is lowercased first. The password must meet the policy. */
  create(username: string, password: string, options?: { readonly admin?: boolean }): Promise<DbUser>;
  /** Replaces a user's password (policy enforced). */
  setPassword(username: string, password: string): Promise<void>;
  /** Checks credentials. Costs one scrypt whether or not the user exists. */
  verify(username: string, password: string): Promise<VerifyResult>;
  get(username: string): Promise<DbUser | undefined>;
  /** Users by name, one page at a time. */
  list(options?: ListUsersOptions): Promise<UserPage>;
  /** Deletes a user; `false` if there was none. Refuses to delete the last enabled administrator. */
  delete(username: string): Promise<boolean>;
  /** Disables or enables a user. Refuses to disable the last enabled administrator. */
  setDisabled(username: string, disabled: boolean): Promise<DbUser>;
  /** True when at least one administrator exists (enabled or not). */
  hasAdmin(): Promise<boolean>;
  /** The password rules `password` breaks; empty when acceptable. */
  passwordProblems(password: string): string[];
}

/** The directory as a service: `deps: { users: authDbUsersRef }`. */
export const authDbUsersRef = createServiceRef<UserDirectory>({ id: 'auth-db.users' });

const USERNAME = new RegExp(USERNAME_PATTERN);
const MAX_PAGE_SIZE = 100;

/** True for a name the grammar allows as stored (already lower case). */
export function isUsername(name: string): boolean {
  return typeof name === 'string' && USERNAME.test(name);
}

interface UserRow {
  id: number | string;
  username: string;
  password_hash: string;
  admin: boolean | number;
  disabled: boolean | number;
  created_at: number | string;
  updated_at: number | string;
  password_changed_at: number | string;
}

const PUBLIC_COLUMNS = ['id', 'username', 'admin', 'disabled', 'created_at', 'updated_at', 'password_changed_at'] as const;

// Drivers differ: PostgreSQL returns BIGINT as strings, SQLite and MySQL booleans as 0/1.
function toUser(row: Omit<UserRow, 'password_hash'>): DbUser {
  return {
    id: Number(row.id),
    username: row.username,
    admin: Boolean(row.admin),
    disabled: Boolean(row.disabled),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
    passwordChangedAt: new Date(Number(row.password_changed_at)),
  };
}

/** LIKE pattern for a substring, with `!` escaping the wildcards on all three databases. */
function containsPattern(q: string): string {
  return `%${q.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

export interface KnexUserDirectoryOptions {
  readonly policy: PasswordPolicy;
  readonly logger: Logger;
  /** Epoch milliseconds; tests may pin it. */
  readonly now?: () => number;
}

export class KnexUserDirectory implements UserDirectory {
  readonly #db: DatabaseService;
  readonly #policy: PasswordPolicy;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(db: DatabaseService, options: KnexUserDirectoryOptions) {
    this.#db = db;
    this.#policy = options.policy;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** Creates or updates the plugin's tables. */
  migrate(): Promise<void> {
    return this.#db.migrate(MIGRATION_OWNER, authDbMigrations(this.#db.dialect));
  }

  passwordProblems(password: string): string[] {
    return passwordProblems(this.#policy, password);
  }

  #users(knex: Knex = this.#db.knex): Knex.QueryBuilder<UserRow> {
    return knex<UserRow>(USERS_TABLE);
  }

  #checkPassword(password: string): void {
    const problems = this.passwordProblems(password);
    if (problems.length > 0) {
      throw new UserDirectoryError('PASSWORD_POLICY', `the password does not meet the policy: ${problems.join('; ')}`, problems);
    }
  }

  async create(username: string, password: string, options: { readonly admin?: boolean } = {}): Promise<DbUser> {
    const name = typeof username === 'string' ? username.toLowerCase() : '';
    if (!isUsername(name)) {
      throw new UserDirectoryError('USERNAME_INVALID', `invalid user name "${String(username)}": use 1 to 64 of a-z, 0-9, ".", "_", "-", starting with a letter or digit`);
    }
    this.#checkPassword(password);
    const passwordHash = await hashPassword(password);
    const now = this.#now();
    try {
      await this.#users().insert({
        username: name,
        password_hash: passwordHash,
        admin: options.admin === true,
        disabled: false,
        created_at: now,
        updated_at: now,
        password_changed_at: now,
      });
    } catch (err) {
      if (this.#db.isUniqueViolation(err)) throw new UserDirectoryError('USER_EXISTS', `user "${name}" already exists`);
      throw err;
    }
    const created = await this.get(name);
    if (!created) throw new UserDirectoryError('USER_UNKNOWN', `user "${name}" was deleted while being created`);
    return created;
  }

  async setPassword(username: string, password: string): Promise<void> {
    this.#checkPassword(password);
    const passwordHash = await hashPassword(password);
    const now = this.#now();
    const changed = await this.#users()
      .where({ username })
      .update({ password_hash: passwordHash, password_changed_at: now, updated_at: now });
    if (changed === 0) throw new UserDirectoryError('USER_UNKNOWN', `no user "${username}"`);
  }

  async verify(username: string, password: string): Promise<VerifyResult> {
    if (!isUsername(username) || typeof password !== 'string') return { ok: false, reason: 'unknown-user' };
    const row = await this.#users().where({ username }).first();
    if (!row) {
      await verifyNothing(password);
      return { ok: false, reason: 'unknown-user' };
    }
    let match: boolean;
    try {
      match = await verifyPassword(password, row.password_hash);
    } catch (err) {
      if (!(err instanceof MalformedHashError)) throw err;
      this.#logger.error({ user: username }, 'stored password hash is malformed; the user cannot log in until the password is set again');
      return { ok: false, reason: 'wrong-password' };
    }
    if (!match) return { ok: false, reason: 'wrong-password' };
    const user = toUser(row);
    return user.disabled ? { ok: false, reason: 'disabled' } : { ok: true, user };
  }

  async get(username: string): Promise<DbUser | undefined> {
    if (!isUsername(username)) return undefined;
    const row = await this.#users().select(PUBLIC_COLUMNS).where({ username }).first();
    return row ? toUser(row) : undefined;
  }

  async list(options: ListUsersOptions = {}): Promise<UserPage> {
    const page = Number.isInteger(options.page) && (options.page as number) >= 1 ? (options.page as number) : 1;
    const requested = Number.isInteger(options.pageSize) ? (options.pageSize as number) : 20;
    const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, requested));
    const q = (options.q ?? '').trim().toLowerCase();
    const filtered = (): Knex.QueryBuilder<UserRow> => {
      const query = this.#users();
      return q === '' ? query : query.whereRaw(`username like ? escape '!'`, [containsPattern(q)]);
    };
    const [counted] = (await filtered().count({ n: '*' })) as { n: number | string }[];
    const rows = await filtered()
      .select(PUBLIC_COLUMNS)
      .orderBy('username', 'asc')
      .limit(pageSize)
      .offset((page - 1) * pageSize);
    return { items: rows.map(toUser), total: Number(counted?.n ?? 0), page, pageSize };
  }

  async delete(username: string): Promise<boolean> {
    if (!isUsername(username)) return false;
    return this.#db.knex.transaction(async (trx) => {
      const row = await this.#users(trx).select(PUBLIC_COLUMNS).where({ username }).first();
      if (!row) return false;
      const user = toUser(row);
      if (user.admin && !user.disabled) await this.#refuseLastAdmin(trx, username, 'delete');
      await this.#users(trx).where({ username }).delete();
      return true;
    });
  }

  async setDisabled(username: string, disabled: boolean): Promise<DbUser> {
    return this.#db.knex.transaction(async (trx) => {
      const row = isUsername(username) ? await this.#users(trx).select(PUBLIC_COLUMNS).where({ username }).first() : undefined;
      if (!row) throw new UserDirectoryError('USER_UNKNOWN', `no user "${username}"`);
      const user = toUser(row);
      if (disabled && user.admin && !user.disabled) await this.#refuseLastAdmin(trx, username, 'disable');
      const now = this.#now();
      await this.#users(trx).where({ username }).update({ disabled, updated_at: now });
      return { ...user, disabled, updatedAt: new Date(now) };
    });
  }

  async hasAdmin(): Promise<boolean> {
    const row = await this.#users().select('id').where({ admin: true }).first();
    return row !== undefined;
  }

  /** Keeps at least one enabled administrator, so nobody locks the registry's admins out. */
  async #refuseLastAdmin(trx: Knex.Transaction, username: string, action: 'delete' | 'disable'): Promise<void> {
    const other = await this.#users(trx).select('id').where({ admin: true, disabled: false }).whereNot({ username }).first();
    if (!other) {
      throw new UserDirectoryError('LAST_ADMIN', `cannot ${action} "${username}": it is the last enabled administrator`);
    }
  }
}
