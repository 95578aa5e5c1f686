import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { basicAuth as basic, startTestRegistry, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import type { WharfPlugin } from '@wharf/sdk';
import { tagRetentionPlugin } from './index.js';

// The JSON client and credentials of every management API test, under this file's short names.
export { assertApiError as assertError, basicAuth as basic, callApi as call, type JsonResponse } from '@wharf/sdk-testing';

/** Helpers of the plugin's tests: a real registry with users (db auth), projects and this plugin. */

export const ADMIN_PASSWORD = 'Admin-Passw0rd';

export async function bootRegistry(db: TestDatabase, plugins: readonly WharfPlugin[] = [], overrides: Record<string, unknown> = {}): Promise<TestRegistry> {
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
        jobs: { pollIntervalMs: 50 },
        events: { pollIntervalMs: 50 },
        ...overrides,
      },
      plugins: [rbacProjectsPlugin, tagRetentionPlugin, ...plugins],
    });
  } finally {
    if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
    else process.env.WHARF_ADMIN_PASSWORD = before;
  }
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
