import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { startTestRegistry, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import type { WharfPlugin } from '@wharf/sdk';
import { repositoriesPlugin } from './index.js';

/** Helpers of the plugin's tests: a real registry with users (db auth), projects and this plugin. */

export const ADMIN_PASSWORD = 'Admin-Passw0rd';

/**
 * A registry with the db auth plugin (its administrator's password from `WHARF_ADMIN_PASSWORD`),
 * the projects RBAC plugin and this one, on `db`. `overrides` replaces top-level config keys.
 */
export async function bootRegistry(db: TestDatabase, overrides: Record<string, unknown> = {}, plugins: readonly WharfPlugin[] = []): Promise<TestRegistry> {
  const before = process.env.WHARF_ADMIN_PASSWORD;
  process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
  try {
    return await startTestRegistry({
      config: {
        database: { ...db.config },
        auth: [{ db: {} }],
        token: { enabled: false },
        rbac: { projects: {} },
        server: { trustProxy: true },
        ...overrides,
      },
      plugins: [rbacProjectsPlugin, repositoriesPlugin, ...plugins],
    });
  } finally {
    if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
    else process.env.WHARF_ADMIN_PASSWORD = before;
  }
}

// The JSON client and credentials of every management API test, under this file's short names.
export { assertApiError as assertError, basicAuth as basic, callApi as call, type JsonResponse } from '@wharf/sdk-testing';
