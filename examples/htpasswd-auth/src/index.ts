import path from 'node:path';
import { definePlugin, RegistryError, type Principal } from '@wharf/sdk';
import { htpasswdConfigSchema } from './config.js';
import { HtpasswdFile } from './htpasswd.js';
import { HTPASSWD_PLUGIN_VERSION } from './version.js';

/**
 * `auth: [{ htpasswd: { file: /etc/wharf/htpasswd } }]`: Basic logins checked against an Apache
 * htpasswd file with bcrypt entries. A user the file does not list is "not mine" (the next
 * provider of the chain answers); a wrong password is a hard `UNAUTHORIZED`. The file is read
 * when the kernel is ready (a bad file stops the boot, naming the line) and re-read when it
 * changes.
 *
 * Written against `@wharf/sdk` only, as a third-party plugin would be.
 */
export const htpasswdAuthPlugin = definePlugin({
  id: 'htpasswd',
  kind: 'auth',
  version: HTPASSWD_PLUGIN_VERSION,
  kernel: '^0.1.0',
  description: 'Basic logins checked against an htpasswd file (bcrypt)',
  configSchema: htpasswdConfigSchema,
  register(ctx) {
    // register() is synchronous and free of I/O: the file is read in lifecycle.ready.
    const file = path.resolve(ctx.settings.dataDir, ctx.config.file);
    const admins = new Set(ctx.config.admins);
    const users = new HtpasswdFile(file, (err) => ctx.logger.error({ file, err: err.message }, 'htpasswd file not reloaded; the last good version stays in use'));

    ctx.hooks.lifecycle.ready.tapPromise(ctx.id, async () => {
      // A throw here stops the boot; the kernel names the plugin, the message names file and line.
      await users.load();
      for (const admin of admins) {
        if ((await users.fingerprintOf(admin)) === undefined) ctx.logger.warn({ file, user: admin }, 'an admin of the config is not in the htpasswd file');
      }
    });

    ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials): Promise<Principal | undefined> => {
      if (credentials.kind !== 'basic') return undefined;
      const verdict = await users.verify(credentials.username, credentials.password);
      if (verdict.ok) {
        return {
          subject: credentials.username,
          kind: 'user',
          provider: ctx.id,
          admin: admins.has(credentials.username),
          groups: [],
          // Lets auth.active tell a cached login of a password changed since.
          claims: { htpasswd: verdict.fingerprint },
        };
      }
      if (verdict.reason === 'unknown-user') return undefined;
      throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
    });

    // Tokens and the kernel's credential cache outlive a login: once the user was removed from
    // the file, or got another password or admin flag, they stop working.
    ctx.hooks.auth.active.tapPromise(ctx.id, async (principal): Promise<boolean | undefined> => {
      if (principal.kind !== 'user' || principal.provider !== ctx.id) return undefined;
      const now = await users.fingerprintOf(principal.subject);
      if (now === undefined || principal.admin !== admins.has(principal.subject)) return false;
      // A principal restored from a token carries no claims: only a cached login can be compared.
      const then = principal.claims?.['htpasswd'];
      return typeof then !== 'string' || then === now;
    });
  },
});

export default htpasswdAuthPlugin;
export { htpasswdConfigSchema, type HtpasswdConfig } from './config.js';
export { HtpasswdError, HtpasswdFile, parseHtpasswd, type Verdict } from './htpasswd.js';
export { HTPASSWD_PLUGIN_VERSION } from './version.js';
