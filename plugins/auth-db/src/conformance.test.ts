import { captureLogs, createTestKernel, forEachDatabase, runAuthProviderConformance } from '@wharf/sdk-testing';
import { authDbPlugin, authDbUsersRef } from './index.js';

/** The SDK's auth provider conformance suite, on each test database; refusing means disabling. */

forEachDatabase((_name, create) => {
  runAuthProviderConformance({
    provider: 'db',
    async setup() {
      const db = await create();
      const logs = captureLogs();
      const kernel = await createTestKernel({
        config: { log: { level: 'trace', format: 'json' }, database: { ...db.config }, auth: [{ db: {} }] },
        plugins: [authDbPlugin],
        logDestination: logs.stream,
      });
      const users = kernel.get(authDbUsersRef);
      await users.create('alice', 'Alice-Passw0rd-1');
      return {
        kernel,
        logs,
        user: { username: 'alice', password: 'Alice-Passw0rd-1' },
        refuse: async (username) => void (await users.setDisabled(username, true)),
        close: () => kernel.close(),
      };
    },
  });
});
