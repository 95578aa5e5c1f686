import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startTestRegistry, type TestRegistry } from '@wharf/sdk-testing';

/**
 * A real Wharf in-process with token auth on and local users (the auth-db plugin): clients
 * get Bearer challenges and fetch tokens from `/service/token`. No RBAC plugin, so repositories
 * are open to any valid token while the catalog is for administrators only.
 */

export interface WharfHandle {
  readonly registry: TestRegistry;
  readonly url: string;
  /** The bootstrapped administrator. */
  readonly admin: { readonly username: string; readonly password: string };
  /** Creates a plain (non-admin) user through the management API. */
  createUser(username: string, password: string): Promise<void>;
  close(): Promise<void>;
}

export async function startTokenWharf(): Promise<WharfHandle> {
  const registry = await startTestRegistry({
    config: {
      token: { enabled: true },
      auth: [{ db: {} }],
    },
  });
  // Without WHARF_ADMIN_PASSWORD the plugin writes a random one here, mode 0600.
  const password = (await readFile(path.join(registry.dataDir, 'admin-password'), 'utf8')).trim();
  const admin = { username: 'admin', password };
  const basic = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`;
  return {
    registry,
    url: registry.url,
    admin,
    async createUser(username, userPassword) {
      const res = await fetch(`${registry.url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: userPassword }),
      });
      if (res.status !== 201) throw new Error(`creating user ${username}: HTTP ${res.status} ${await res.text()}`);
    },
    close: () => registry.close(),
  };
}
