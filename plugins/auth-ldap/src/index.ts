import { RegistryError, definePlugin } from '@wharf/sdk';
import { ldapConfigSchema } from './config.js';
import { LdapAuthenticator } from './ldap-authenticator.js';
import { LDAP_PLUGIN_VERSION } from './version.js';

/**
 * `auth: [{ ldap: {...} }]`: Basic credentials checked against an LDAP directory (Harbor's LDAP
 * mode). Users not in the directory, and every directory outage, fall through to the next
 * provider of the chain. Groups come from the directory for every principal of this provider,
 * fresh from a login or restored from a token (a refresh grant, a Bearer call), so every grant
 * sees the same memberships.
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
    // Tokens carry no groups: a principal restored from one gets them from the directory again.
    ctx.hooks.auth.principal.tapPromise(ctx.id, async (principal) => {
      if (principal.provider !== ctx.id || principal.kind !== 'user' || authenticator.isFresh(principal)) return principal;
      const groups = await authenticator.groupsOf(principal.subject);
      if (groups === 'gone') throw new RegistryError('UNAUTHORIZED', 'the user is no longer in the directory');
      // The directory cannot be asked: no groups and no admin flag rather than stale ones.
      if (groups === undefined) return { ...principal, groups: [], admin: false };
      return { ...principal, groups: groups.names, admin: groups.admin };
    });
  },
});

export default authLdapPlugin;
export { LdapAuthenticator, type LdapAuthenticatorOptions } from './ldap-authenticator.js';
export { ldapConfigSchema, DEFAULT_USER_FILTER, DEFAULT_GROUP_FILTER, type LdapConfig } from './config.js';
export { resolveSettings, type LdapConfigInput, type LdapSettings } from './settings.js';
export { escapeFilterValue, fillFilter, isAcceptableUsername, MAX_USERNAME_LENGTH } from './escape.js';
export { parseFilter, buildFilter, FilterSyntaxError } from './filter.js';
