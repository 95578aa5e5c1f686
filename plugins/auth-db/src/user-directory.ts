import { createServiceRef, orderBySort, type ApiSortKey, type DatabaseService, type Knex, type Logger } from '@wharf/sdk';
import { USERNAME_PATTERN, type PasswordPolicy } from './config.js';
import { LOCAL_PROVIDER, USERS_TABLE } from './migrations.js';
import { hashPassword, MalformedHashError, verifyNothing, verifyPassword } from './password-hash.js';
import { passwordProblems } from './password-policy.js';

/**
 * The users of the `users` table: the {@link UserDirectory} service other plugins (an admin API,
 * a CLI) use to manage accounts, and what the `auth.authenticate` tap asks. User names are
 * lowercased when a user is created and compared exactly (case-sensitively) afterwards.
 *
 * Besides its own users (provider `db`, with a password), the table records users of other
 * providers (LDAP...) when they first log in: no password, their provider's name, and the admin
 * flag their provider last reported. They are listed with the others but cannot log in here,
 * get a password, or be made administrators or disabled through the directory.
 */

/** A user as the directory shows it: never the password hash. */
export interface DbUser {
  readonly id: number;
  readonly username: string;
  /** `db` for the plugin's own users, else the auth plugin that vouched for an external user. */
  readonly provider: string;
  readonly admin: boolean;
  readonly disabled: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** For external users: when they were first recorded (they have no password here). */
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
  /** Keeps only the user with exactly this name. */
  readonly username?: string;
  /** `sort=` keys over {@link USER_SORTS}; empty: by user name. */
  readonly sort?: readonly ApiSortKey[];
}

/** What the user list sorts by (API field to column); ties break on `id`. */
export const USER_SORTS = Object.freeze({ username: 'username', provider: 'provider', admin: 'admin', disabled: 'disabled', createdAt: 'created_at', updatedAt: 'updated_at' });

export interface UserPage {
  readonly items: readonly DbUser[];
  /** Users matching `q`, over all pages. */
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
}

export type UserDirectoryErrorCode = 'USERNAME_INVALID' | 'PASSWORD_POLICY' | 'USER_EXISTS' | 'USER_UNKNOWN' | 'LAST_ADMIN' | 'EXTERNAL_USER';

/** What {@link UserDirectory.recordExternal} did. `conflict`: the name belongs to a user of another provider. */
export type RecordExternalOutcome = 'created' | 'updated' | 'unchanged' | 'conflict' | 'invalid';

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
  /** Replaces a user's password (policy enforced). `EXTERNAL_USER` for users of other providers. */
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
  /** Grants or revokes the admin flag. Refuses to demote the last enabled administrator. */
  setAdmin(username: string, admin: boolean): Promise<DbUser>;
  /**
   * Records a user another provider vouched for (first login), or updates the admin flag it
   * reports. Never touches a user of another provider with the same name.
   */
  recordExternal(user: { readonly username: string; readonly provider: string; readonly admin: boolean }): Promise<RecordExternalOutcome>;
  /** True when at least one administrator of the plugin's own exists (enabled or not). */
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

/** Longest name the column holds (external users' names follow their provider's grammar). */
export const MAX_USERNAME_LENGTH = 64;

/** True for any name the table could hold: own users' names, and external users' names. */
export function isStoredName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_USERNAME_LENGTH && !/[\u0000-\u001f\u007f]/.test(name);
}

interface UserRow {
  id: number | string;
  username: string;
  provider: string;
  password_hash: string | null;
  admin: boolean | number;
  disabled: boolean | number;
  created_at: number | string;
  updated_at: number | string;
  password_changed_at: number | string;
}

const PUBLIC_COLUMNS = ['id', 'username', 'provider', 'admin', 'disabled', 'created_at', 'updated_at', 'password_changed_at'] as const;

// Drivers differ: PostgreSQL returns BIGINT as strings, SQLite and MySQL booleans as 0/1.
function toUser(row: Omit<UserRow, 'password_hash'>): DbUser {
  return {
    id: Number(row.id),
    username: row.username,
    provider: row.provider,
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
        provider: LOCAL_PROVIDER,
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
      .where({ username, provider: LOCAL_PROVIDER })
      .update({ password_hash: passwordHash, password_changed_at: now, updated_at: now });
    if (changed === 0) {
      const user = await this.get(username);
      if (user) throw externalUser(user, 'cannot have a password here');
      throw new UserDirectoryError('USER_UNKNOWN', `no user "${username}"`);
    }
  }

  async verify(username: string, password: string): Promise<VerifyResult> {
    if (!isUsername(username) || typeof password !== 'string') return { ok: false, reason: 'unknown-user' };
    const row = await this.#users().where({ username }).first();
    // An external user has no password here: the next provider of the chain (theirs) answers.
    if (!row || row.provider !== LOCAL_PROVIDER || row.password_hash === null) {
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
    if (!isStoredName(username)) return undefined;
    const row = await this.#users().select(PUBLIC_COLUMNS).where({ username }).first();
    return row ? toUser(row) : undefined;
  }

  async list(options: ListUsersOptions = {}): Promise<UserPage> {
    const page = Number.isInteger(options.page) && (options.page as number) >= 1 ? (options.page as number) : 1;
    const requested = Number.isInteger(options.pageSize) ? (options.pageSize as number) : 20;
    const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, requested));
    const q = (options.q ?? '').trim().toLowerCase();
    const exact = options.username;
    const filtered = (): Knex.QueryBuilder<UserRow> => {
      const query = this.#users();
      if (exact !== undefined) query.where({ username: exact });
      return q === '' ? query : query.whereRaw(`lower(username) like ? escape '!'`, [containsPattern(q)]);
    };
    const [counted] = (await filtered().count({ n: '*' })) as { n: number | string }[];
    const rows = await orderBySort(filtered().select(PUBLIC_COLUMNS), options.sort ?? [], USER_SORTS, { fallback: [{ field: 'username', descending: false }] })
      .limit(pageSize)
      .offset((page - 1) * pageSize);
    return { items: rows.map(toUser), total: Number(counted?.n ?? 0), page, pageSize };
  }

  async delete(username: string): Promise<boolean> {
    if (!isStoredName(username)) return false;
    return this.#db.knex.transaction(async (trx) => {
      const row = await this.#users(trx).select(PUBLIC_COLUMNS).where({ username }).first();
      if (!row) return false;
      const user = toUser(row);
      if (user.provider === LOCAL_PROVIDER && user.admin && !user.disabled) await this.#refuseLastAdmin(trx, username, 'delete');
      await this.#users(trx).where({ username }).delete();
      return true;
    });
  }

  async setDisabled(username: string, disabled: boolean): Promise<DbUser> {
    return this.#db.knex.transaction(async (trx) => {
      const user = await this.#localUser(trx, username, 'cannot be disabled here');
      if (disabled && user.admin && !user.disabled) await this.#refuseLastAdmin(trx, username, 'disable');
      const now = this.#now();
      await this.#users(trx).where({ username }).update({ disabled, updated_at: now });
      return { ...user, disabled, updatedAt: new Date(now) };
    });
  }

  async setAdmin(username: string, admin: boolean): Promise<DbUser> {
    return this.#db.knex.transaction(async (trx) => {
      const user = await this.#localUser(trx, username, 'gets the admin flag from its provider');
      if (!admin && user.admin && !user.disabled) await this.#refuseLastAdmin(trx, username, 'demote');
      const now = this.#now();
      await this.#users(trx).where({ username }).update({ admin, updated_at: now });
      return { ...user, admin, updatedAt: new Date(now) };
    });
  }

  async recordExternal(user: { readonly username: string; readonly provider: string; readonly admin: boolean }): Promise<RecordExternalOutcome> {
    const { username, provider, admin } = user;
    if (!isStoredName(username) || provider === LOCAL_PROVIDER || !isStoredName(provider)) return 'invalid';
    const now = this.#now();
    const read = async () => this.#users().select(PUBLIC_COLUMNS).where({ username }).first();
    let row = await read();
    if (!row) {
      // Insert-if-absent: nodes seeing the same first login at once insert one row between them.
      await this.#users()
        .insert({ username, provider, password_hash: null, admin, disabled: false, created_at: now, updated_at: now, password_changed_at: now })
        .onConflict('username')
        .ignore();
      row = await read();
      return row?.provider === provider ? 'created' : 'conflict';
    }
    if (row.provider !== provider) return 'conflict';
    if (Boolean(row.admin) === admin) return 'unchanged';
    await this.#users().where({ username, provider }).update({ admin, updated_at: now });
    return 'updated';
  }

  async hasAdmin(): Promise<boolean> {
    const row = await this.#users().select('id').where({ admin: true, provider: LOCAL_PROVIDER }).first();
    return row !== undefined;
  }

  /** The plugin's own user `username` (in `trx`); `USER_UNKNOWN` or `EXTERNAL_USER` otherwise. */
  async #localUser(trx: Knex.Transaction, username: string, externalWhy: string): Promise<DbUser> {
    const row = isStoredName(username) ? await this.#users(trx).select(PUBLIC_COLUMNS).where({ username }).first() : undefined;
    if (!row) throw new UserDirectoryError('USER_UNKNOWN', `no user "${username}"`);
    const user = toUser(row);
    if (user.provider !== LOCAL_PROVIDER) throw externalUser(user, externalWhy);
    return user;
  }

  /** Keeps at least one enabled administrator, so nobody locks the registry's admins out. */
  async #refuseLastAdmin(trx: Knex.Transaction, username: string, action: 'delete' | 'disable' | 'demote'): Promise<void> {
    const other = await this.#users(trx).select('id').where({ admin: true, disabled: false, provider: LOCAL_PROVIDER }).whereNot({ username }).first();
    if (!other) {
      throw new UserDirectoryError('LAST_ADMIN', `cannot ${action} "${username}": it is the last enabled administrator`);
    }
  }
}

function externalUser(user: DbUser, why: string): UserDirectoryError {
  return new UserDirectoryError('EXTERNAL_USER', `"${user.username}" is a user of ${user.provider}: it ${why}`);
}

