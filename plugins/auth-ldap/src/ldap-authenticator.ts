import type { ConnectionOptions } from 'node:tls';
import { RegistryError, isRegistryError, type Logger, type Principal } from '@wharf/sdk';
import { isAcceptableUsername } from './escape.js';
import { buildFilter } from './filter.js';
import { resolveGroups, userAttributesForGroups, type UserGroups } from './groups.js';
import { LdapConnection, attributeValues, isInvalidCredentials, type LdapEntry } from './ldap-connection.js';
import { loadTlsOptions, resolveSettings, type LdapConfigInput, type LdapSettings } from './settings.js';

/**
 * Checks a user name and password against the directory, the way Harbor's LDAP mode does:
 * bind as the search account, find exactly one user entry, bind as that entry with the password,
 * then read the groups. A fresh connection per login, always closed.
 *
 * Answers follow the `auth.authenticate` contract: a principal; `undefined` when the user is not
 * in the directory or the directory cannot be asked (so a later provider, e.g. a DB admin, can
 * still log in); a `RegistryError('UNAUTHORIZED')` when the directory knows the user and refuses.
 * Passwords never reach a log line.
 */

export interface LdapAuthenticatorOptions {
  readonly logger: Logger;
  /** Base for a relative `tls.ca` path (the kernel data directory). Default: the working directory. */
  readonly baseDir?: string;
  /** The provider name put into principals. */
  readonly provider?: string;
}

const refused = (): RegistryError => new RegistryError('UNAUTHORIZED', 'invalid username or password');

/** `name`, `message` and result `code` of an error: enough to diagnose, nothing secret. */
function describe(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(code !== undefined ? { code } : {}) };
}

export class LdapAuthenticator {
  readonly settings: LdapSettings;
  private readonly logger: Logger;
  private readonly baseDir: string;
  private readonly provider: string;
  private tls: Promise<ConnectionOptions> | undefined;
  /** Principals this authenticator just built from a password check: their groups are fresh. */
  private readonly fresh = new WeakSet<Principal>();
  /** Recent group lookups of restored principals, so a burst of Bearer calls asks once. */
  private readonly lookups = new Map<string, { at: number; groups: Promise<UserGroups | 'gone' | undefined> }>();

  constructor(config: LdapConfigInput, options: LdapAuthenticatorOptions) {
    this.settings = resolveSettings(config);
    this.logger = options.logger;
    this.baseDir = options.baseDir ?? process.cwd();
    this.provider = options.provider ?? 'ldap';
  }

  /** Loads the TLS material (reads a CA file). Called at kernel ready; failures stop the boot. */
  prepare(): Promise<ConnectionOptions> {
    if (this.tls === undefined) {
      const loading = loadTlsOptions(this.settings.tls, this.baseDir);
      this.tls = loading;
      loading.catch(() => {
        if (this.tls === loading) this.tls = undefined; // try again next time rather than cache the failure
      });
    }
    return this.tls;
  }

  async authenticate(username: string, password: string): Promise<Principal | undefined> {
    if (!isAcceptableUsername(username)) {
      this.logger.debug({ length: username.length }, 'ldap login skipped: user name empty, too long or with control characters');
      return undefined;
    }
    const started = Date.now();
    let connection: LdapConnection | undefined;
    try {
      const s = this.settings;
      connection = await this.connect();
      try {
        await connection.bind(s.bindDN, s.bindPassword);
      } catch (err) {
        // Wrong search-account credentials are an operator problem, never the user's.
        this.logger.error({ error: describe(err), bindDN: s.bindDN }, 'ldap search account bind failed');
        return undefined;
      }
      const user = await this.findUser(connection, username);
      if (user === undefined) {
        this.logger.debug({ username }, 'ldap user not found');
        return undefined;
      }
      if (password === '') {
        // A simple bind with an empty password is an anonymous bind, which servers accept.
        this.logger.info({ username, dn: user.dn }, 'ldap login refused: empty password');
        throw refused();
      }
      try {
        await connection.bind(user.dn, password);
      } catch (err) {
        if (!isInvalidCredentials(err)) throw err;
        this.logger.info({ username, dn: user.dn }, 'ldap login refused: invalid credentials');
        throw refused();
      }
      const subject = this.subjectOf(user, username);
      const groups = await resolveGroups(connection, user, subject, s, this.logger);
      const displayName = attributeValues(user, s.displayNameAttribute)[0];
      this.logger.debug({ username: subject, groups: groups.names.length, admin: groups.admin, ms: Date.now() - started }, 'ldap login');
      const principal: Principal = {
        subject,
        kind: 'user',
        provider: this.provider,
        groups: groups.names,
        admin: groups.admin,
        ...(displayName !== undefined ? { displayName } : {}),
        claims: { dn: user.dn },
      };
      this.fresh.add(principal);
      return principal;
    } catch (err) {
      if (isRegistryError(err)) throw err;
      this.logger.error({ error: describe(err), username, url: this.settings.url, ms: Date.now() - started }, 'ldap login failed: directory error');
      return undefined;
    } finally {
      connection?.close();
    }
  }

  /** True for a principal this authenticator returned from a password check (groups already read). */
  isFresh(principal: Principal): boolean {
    return this.fresh.has(principal);
  }

  /**
   * The current groups (and admin flag) of a user restored from a token, resolved exactly as at
   * login, through the search account: a refresh grant must see the same memberships as the
   * password grant. `gone` when the directory no longer has the user; `undefined` when it
   * cannot be asked. Answers are reused for `cacheMs`.
   */
  groupsOf(subject: string, cacheMs = 30_000): Promise<UserGroups | 'gone' | undefined> {
    const now = Date.now();
    const cached = this.lookups.get(subject);
    if (cached && now - cached.at < cacheMs) return cached.groups;
    const groups = this.lookupGroups(subject);
    this.lookups.set(subject, { at: now, groups });
    // A bounded memory: the oldest lookups go first.
    while (this.lookups.size > 1000) this.lookups.delete(this.lookups.keys().next().value as string);
    groups.then((g) => g === undefined && this.lookups.delete(subject), () => this.lookups.delete(subject));
    return groups;
  }

  /** A connection with the configured TLS and timeouts (the caller binds and closes it). */
  private async connect(): Promise<LdapConnection> {
    const s = this.settings;
    return LdapConnection.open({
      url: s.url,
      startTLS: s.startTLS,
      tls: await this.prepare(),
      connectTimeoutMs: s.connectTimeoutMs,
      timeoutMs: s.timeoutMs,
      onLateError: (err) => this.logger.debug({ error: describe(err) }, 'ldap connection error after the fact'),
    });
  }

  private async lookupGroups(subject: string): Promise<UserGroups | 'gone' | undefined> {
    if (!isAcceptableUsername(subject)) return 'gone';
    let connection: LdapConnection | undefined;
    try {
      const s = this.settings;
      connection = await this.connect();
      await connection.bind(s.bindDN, s.bindPassword);
      const user = await this.findUser(connection, subject);
      if (user === undefined) return 'gone';
      return await resolveGroups(connection, user, this.subjectOf(user, subject), s, this.logger);
    } catch (err) {
      if (isRegistryError(err)) return 'gone';
      this.logger.error({ error: describe(err), username: subject, url: this.settings.url }, 'ldap group lookup failed: directory error');
      return undefined;
    } finally {
      connection?.close();
    }
  }

  /** One user search, size limit 2: zero entries is "not mine", two or more is refused. */
  private async findUser(connection: LdapConnection, username: string): Promise<LdapEntry | undefined> {
    const s = this.settings;
    const result = await connection.search(s.userBase, {
      scope: s.userScope,
      filter: buildFilter(s.userFilter, { username }),
      attributes: [s.usernameAttribute, s.displayNameAttribute, ...userAttributesForGroups(s)],
      sizeLimit: 2,
    });
    if (result.entries.length === 0) return undefined;
    if (result.entries.length > 1 || result.truncated) {
      this.logger.warn({ username, matches: result.entries.map((e) => e.dn) }, 'ldap login refused: the user filter matches more than one entry');
      throw refused();
    }
    const user = result.entries[0] as LdapEntry;
    if (user.dn === '') {
      this.logger.warn({ username }, 'ldap login refused: the user entry has an empty DN');
      throw refused();
    }
    return user;
  }

  /** The user name as the directory spells it; the typed name if the attribute is absent. */
  private subjectOf(user: LdapEntry, typed: string): string {
    const values = attributeValues(user, this.settings.usernameAttribute);
    return values.find((v) => v.toLowerCase() === typed.toLowerCase()) ?? values[0] ?? typed;
  }
}
