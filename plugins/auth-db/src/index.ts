import { coreServices, definePlugin, RegistryError, type Principal } from '@wharf/sdk';
import { registerUsersApi } from './api.js';
import { bootstrapAdmin, checkAdminPasswordEnv } from './bootstrap.js';
import { userCommands } from './cli.js';
import { dbAuthConfigSchema } from './config.js';
import { ExternalUsers } from './external-users.js';
import { authDbMigrations, LOCAL_PROVIDER } from './migrations.js';
import { checkPolicy } from './password-policy.js';
import { authDbUsersRef, KnexUserDirectory } from './user-directory.js';
import { DB_PLUGIN_VERSION } from './version.js';

/**
 * `auth: [{ db: {} }]`: local users in the registry database (Harbor's DB mode). Basic
 * credentials of a user in the `users` table give a principal; names the table does not know go
 * to the next provider of the chain. Declares its tables' migrations, provides
 * {@link authDbUsersRef} to manage the users, and, in its init, the users API (`/api/v1/users`)
 * and its auth taps. Users of other providers are recorded on their first login
 * (`auth.principal`); `auth.active` tells the kernel when a db user's tokens must stop working.
 */
export const authDbPlugin = definePlugin({
  id: 'db',
  kind: 'auth',
  version: DB_PLUGIN_VERSION,
  kernel: '^0.1.0',
  description: 'Local users in the registry database, with scrypt password hashes and a bootstrap administrator',
  configSchema: dbAuthConfigSchema,
  cli: [userCommands],
  register(ctx) {
    const { passwordPolicy, bootstrapAdmin: bootstrap } = ctx.config;
    checkPolicy(passwordPolicy);
    checkAdminPasswordEnv(passwordPolicy, process.env);
    ctx.migrations(authDbMigrations);
    ctx.provide(authDbUsersRef, {
      deps: { database: coreServices.database },
      factory: ({ database }) => new KnexUserDirectory(database, { policy: passwordPolicy, logger: ctx.logger }),
    });

    // Everything that reads users gets the built directory: the kernel calls init after every
    // singleton was built and every migration ran.
    ctx.registerInit({
      deps: { users: authDbUsersRef, database: coreServices.database, events: coreServices.events },
      async init({ users, database, events }) {
        await bootstrapAdmin({ users, username: bootstrap.username, policy: passwordPolicy, dataDir: ctx.settings.dataDir, env: process.env, logger: ctx.logger });

        const externalUsers = new ExternalUsers(users, ctx.logger);
        registerUsersApi(ctx.api, { users, externalUsers, recorder: { database, events } });
        ctx.hooks.auth.principal.tapPromise(ctx.id, async (principal) => {
          await externalUsers.record(principal);
          return principal;
        });

        // A db principal from a token or the kernel's credential cache is stale once its user was
        // deleted or disabled, or got another admin flag or password since: refused, the client
        // logs in again. Other providers' users are theirs to judge.
        ctx.hooks.auth.active.tapPromise(ctx.id, async (principal): Promise<boolean | undefined> => {
          if (principal.kind !== 'user' || principal.provider !== ctx.id) return undefined;
          const user = await users.get(principal.subject);
          if (user === undefined || user.provider !== LOCAL_PROVIDER || user.disabled || user.admin !== principal.admin) return false;
          // A principal without the claim comes from no password of this user (a token minted before
          // the claim was carried, or by hand): refused, so a password change revokes everything.
          return principal.claims?.passwordChangedAt === user.passwordChangedAt.getTime();
        });

        ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials): Promise<Principal | undefined> => {
          if (credentials.kind !== 'basic') return undefined;
          const result = await users.verify(credentials.username, credentials.password);
          if (result.ok) {
            // The password's age lets `auth.active` tell a cached login of an old password.
            const claims = { passwordChangedAt: result.user.passwordChangedAt.getTime() };
            return { subject: result.user.username, kind: 'user', provider: ctx.id, admin: result.user.admin, groups: [], claims };
          }
          if (result.reason === 'unknown-user') return undefined;
          if (result.reason === 'disabled') ctx.logger.debug({ user: credentials.username }, 'login of a disabled user refused');
          throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
        });
      },
    });
  },
});

export default authDbPlugin;
export { dbAuthConfigSchema, DEFAULT_PASSWORD_POLICY, USERNAME_PATTERN, type DbAuthConfig, type PasswordPolicy } from './config.js';
export { registerUsersApi, toApiError, type UsersApiDeps } from './api.js';
export { ExternalUsers } from './external-users.js';
export {
  authDbUsersRef,
  isStoredName,
  isUsername,
  MAX_USERNAME_LENGTH,
  KnexUserDirectory,
  UserDirectoryError,
  type DbUser,
  type KnexUserDirectoryOptions,
  type ListUsersOptions,
  type RecordExternalOutcome,
  type UserDirectory,
  type UserDirectoryErrorCode,
  type UserPage,
  type VerifyResult,
} from './user-directory.js';
export { hashPassword, verifyPassword, isPasswordHash, DEFAULT_SCRYPT, type ScryptParams } from './password-hash.js';
export { passwordProblems, generatePassword, checkPolicy } from './password-policy.js';
export { bootstrapAdmin, checkAdminPasswordEnv, adminPasswordFromEnv, ADMIN_PASSWORD_ENV, ADMIN_PASSWORD_FILE_ENV, ADMIN_PASSWORD_FILE, type BootstrapOptions, type BootstrapOutcome } from './bootstrap.js';
export { authDbMigrations, LOCAL_PROVIDER, USERS_TABLE } from './migrations.js';
export { DB_PLUGIN_VERSION } from './version.js';
export { userCommands } from './cli.js';
