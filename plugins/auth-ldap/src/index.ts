import { definePlugin } from '@wharf/sdk';
import { ldapConfigSchema } from './config.js';
import { LdapAuthenticator } from './ldap-authenticator.js';
import { LDAP_PLUGIN_VERSION } from './version.js';

/**
 * `auth: [{ ldap: {...} }]`: Basic credentials checked against an LDAP directory (Harbor's LDAP
 * mode). Users not in the directory, and every directory outage, fall through to the next
 * provider of the chain.
 */
export const authLdapPlugin = definePlugin({
  id: 'ldap',
  kind: 'auth',
  version: LDAP_PLUGIN_VERSION,
  kernel: '^0.1.0',
  description: 'Authenticates users against an LDAP directory, with groups and admin groups',
  configSchema: ldapConfigSchema,
  register(ctx) {
    // Declaration only: nothing connects until the first login; the CA file is read at ready.
    const authenticator = new LdapAuthenticator(ctx.config, { logger: ctx.logger, baseDir: ctx.settings.dataDir, provider: ctx.id });
    ctx.hooks.lifecycle.ready.tapPromise(ctx.id, async () => {
      await authenticator.prepare();
    });
    ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials) => {
      if (credentials.kind !== 'basic') return undefined;
      return authenticator.authenticate(credentials.username, credentials.password);
    });
  },
});

export default authLdapPlugin;
export { LdapAuthenticator, type LdapAuthenticatorOptions } from './ldap-authenticator.js';
export { ldapConfigSchema, DEFAULT_USER_FILTER, DEFAULT_GROUP_FILTER, type LdapConfig } from './config.js';
export { resolveSettings, type LdapConfigInput, type LdapSettings } from './settings.js';
export { escapeFilterValue, fillFilter, isAcceptableUsername, MAX_USERNAME_LENGTH } from './escape.js';
export { parseFilter, buildFilter, FilterSyntaxError } from './filter.js';
