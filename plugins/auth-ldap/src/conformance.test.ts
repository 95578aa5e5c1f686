import { captureLogs, createTestKernel, runAuthProviderConformance } from '@wharf/sdk-testing';
import { authLdapPlugin } from './index.js';
import { deleteEntry, GROUPS_DN, PASSWORDS, PEOPLE_DN, SEARCH_DN, SEARCH_PASSWORD, startSlapd, userDn } from './test-support/slapd.js';

/** The SDK's auth provider conformance suite against a real slapd; refusing means deleting the entry. */

runAuthProviderConformance({
  provider: 'ldap',
  async setup() {
    const slapd = await startSlapd();
    const logs = captureLogs();
    const ldap = {
      url: slapd.url,
      bindDN: SEARCH_DN,
      bindPassword: SEARCH_PASSWORD,
      userBase: PEOPLE_DN,
      groups: { mode: 'search', base: GROUPS_DN, adminGroups: ['registry-admins'] },
    };
    const kernel = await createTestKernel({
      config: { log: { level: 'trace', format: 'json' }, auth: [{ ldap }] },
      plugins: [authLdapPlugin],
      logDestination: logs.stream,
    }).catch(async (err: unknown) => {
      await slapd.stop();
      throw err;
    });
    return {
      kernel,
      logs,
      user: { username: 'bob', password: PASSWORDS['bob'] as string },
      refuse: (username) => deleteEntry(slapd, userDn(username)),
      close: async () => {
        await kernel.close();
        await slapd.stop();
      },
    };
  },
});
