import { CliRefusal, defineCliCommand, formatTable, type CliCommandGroup } from '@wharf/sdk';
import { readNewPassword } from './cli-input.js';
import { authDbUsersRef, UserDirectoryError, type DbUser, type UserDirectory } from './user-directory.js';

/**
 * `wharf user add|passwd|list`: the plugin's users on the configured database, through the
 * SDK's CLI capability (the CLI boots the kernel and hands over {@link authDbUsersRef}).
 */

/** The directory's refusals (taken name, weak password...) become one-line CLI refusals. */
async function refusing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof UserDirectoryError) throw new CliRefusal(err.code, err.message);
    throw err;
  }
}

async function allUsers(users: UserDirectory): Promise<DbUser[]> {
  const out: DbUser[] = [];
  for (let page = 1; ; page++) {
    const { items, total } = await users.list({ page, pageSize: 100 });
    out.push(...items);
    if (items.length === 0 || out.length >= total) return out;
  }
}

const passwordStdin = { flags: '--password-stdin', description: 'read the password from the first line of stdin' };

const add = defineCliCommand({
  usage: 'add <name>',
  description: 'create a user; the password is read from stdin or prompted for',
  options: [{ flags: '--admin', description: 'make the user an administrator' }, passwordStdin],
  deps: { users: authDbUsersRef },
  run: ({ users }, { args: [name = ''], options, stdout }) =>
    refusing(async () => {
      // Names are stored lower case; refuse a taken name before asking for a password.
      const existing = await users.get(name.toLowerCase());
      if (existing) throw new CliRefusal('USER_EXISTS', `user "${existing.username}" already exists`);
      const password = await readNewPassword(options['passwordStdin'] === true, name.toLowerCase(), (p) => users.passwordProblems(p));
      const user = await users.create(name, password, { admin: options['admin'] === true });
      stdout(`user ${user.username} created${user.admin ? ' (administrator)' : ''}`);
      return 0;
    }),
});

const passwd = defineCliCommand({
  usage: 'passwd <name>',
  description: "change a user's password; read from stdin or prompted for",
  options: [passwordStdin],
  deps: { users: authDbUsersRef },
  run: ({ users }, { args: [name = ''], options, stdout }) =>
    refusing(async () => {
      const user = await users.get(name);
      if (!user) {
        const hint = name !== name.toLowerCase() ? ' (user names are lower case)' : '';
        throw new CliRefusal('USER_UNKNOWN', `no user "${name}"${hint}`);
      }
      const password = await readNewPassword(options['passwordStdin'] === true, user.username, (p) => users.passwordProblems(p));
      await users.setPassword(user.username, password);
      stdout(`password of ${user.username} changed`);
      return 0;
    }),
});

const list = defineCliCommand({
  usage: 'list',
  description: 'list the users: name, admin, disabled, created',
  options: [{ flags: '--json', description: 'print JSON instead of a table' }],
  deps: { users: authDbUsersRef },
  async run({ users }, { options, stdout }) {
    const all = await allUsers(users);
    if (options['json'] === true) {
      stdout(JSON.stringify(all.map((u) => ({ username: u.username, admin: u.admin, disabled: u.disabled, createdAt: u.createdAt.toISOString() })), null, 2));
      return 0;
    }
    const yesNo = (b: boolean) => (b ? 'yes' : 'no');
    stdout(formatTable(['USERNAME', 'ADMIN', 'DISABLED', 'CREATED'], all.map((u) => [u.username, yesNo(u.admin), yesNo(u.disabled), u.createdAt.toISOString()])));
    return 0;
  },
});

/** `wharf user ...`, contributed by the plugin. No password option on purpose (see cli-input). */
export const userCommands: CliCommandGroup = Object.freeze({
  name: 'user',
  description: 'manage the users of the db auth plugin (auth: [{ db: {} }])',
  commands: [add, passwd, list],
});
