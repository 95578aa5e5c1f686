import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { captureLogs, createTestKernel, runAuthProviderConformance } from '@wharf/sdk-testing';
import bcrypt from 'bcryptjs';
import { htpasswdAuthPlugin } from './index.js';

/** The SDK's auth provider conformance suite, on a real htpasswd file with bcrypt entries. */

const entry = (user: string, password: string): string => `${user}:${bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2y$')}`;

runAuthProviderConformance({
  provider: 'htpasswd',
  async setup() {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-htpasswd-conformance-'));
    const file = path.join(dir, 'htpasswd');
    await writeFile(file, `${entry('alice', 'Alice-Passw0rd')}\n${entry('bob', 'Bob-Passw0rd')}\n`);
    const logs = captureLogs();
    const kernel = await createTestKernel({
      config: { log: { level: 'trace', format: 'json' }, auth: [{ htpasswd: { file } }] },
      plugins: [htpasswdAuthPlugin],
      logDestination: logs.stream,
    }).catch(async (err: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw err;
    });
    return {
      kernel,
      logs,
      user: { username: 'alice', password: 'Alice-Passw0rd' },
      // An operator removes the line; the plugin sees the new file on the next lookup.
      refuse: (username) => writeFile(file, `${username === 'bob' ? '' : entry('bob', 'Bob-Passw0rd')}\n`),
      close: async () => {
        await kernel.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});
