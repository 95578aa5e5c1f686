import type { Logger, Principal } from '@wharf/sdk';
import { LOCAL_PROVIDER } from './migrations.js';
import type { UserDirectory } from './user-directory.js';

/**
 * Users of other providers (LDAP...) appear in the users table when they first log in, as
 * Harbor records LDAP users: the `auth.principal` tap hands every principal here. Each
 * (provider, user, admin flag) is written at most once per process and {@link TTL_MS}, so a
 * login costs no query once its user is known; a failed write is logged, never a failed login.
 */

const TTL_MS = 10 * 60 * 1000;
const MAX_ENTRIES = 10_000;

export class ExternalUsers {
  /** Key -> when it was recorded; insertion order makes the oldest easy to drop. */
  private readonly recorded = new Map<string, number>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly users: UserDirectory,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  private static key(provider: string, username: string, admin: boolean): string {
    return `${provider.length}:${provider}:${admin ? 'a' : 'u'}:${username}`;
  }

  /** Records `principal` when it is a user of another provider not recorded lately. */
  async record(principal: Principal): Promise<void> {
    if (principal.kind !== 'user' || principal.provider === LOCAL_PROVIDER) return;
    const key = ExternalUsers.key(principal.provider, principal.subject, principal.admin);
    const at = this.recorded.get(key);
    if (at !== undefined && this.now() - at < TTL_MS) return;
    const user = { username: principal.subject, provider: principal.provider, admin: principal.admin };
    try {
      const outcome = await this.users.recordExternal(user);
      if (outcome === 'created') this.logger.info({ user: user.username, provider: user.provider }, 'recorded a user of another provider on first login');
      if ((outcome === 'conflict' || outcome === 'invalid') && !this.warned.has(key)) {
        if (this.warned.size >= MAX_ENTRIES) this.warned.clear();
        this.warned.add(key);
        this.logger.warn(
          { user: user.username, provider: user.provider, outcome },
          outcome === 'conflict' ? 'not recording the user: the name belongs to a user of another provider' : 'not recording the user: the name does not fit the users table',
        );
      }
    } catch (err) {
      this.logger.warn({ err, user: user.username, provider: user.provider }, 'could not record a user of another provider');
      return;
    }
    this.recorded.delete(key);
    this.recorded.set(key, this.now());
    if (this.recorded.size > MAX_ENTRIES) this.recorded.delete(this.recorded.keys().next().value as string);
  }

  /** Forgets a user (deleted through the API), so their next login here records them again. */
  forget(provider: string, username: string): void {
    for (const admin of [true, false]) this.recorded.delete(ExternalUsers.key(provider, username, admin));
  }
}
