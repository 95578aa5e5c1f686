import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { basicAuth as basic, startTestRegistry, type ImageBlob, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import type { WharfPlugin } from '@wharf/sdk';
import { quotasPlugin } from './index.js';

// The JSON client and credentials of every management API test, under this file's short names.
export { assertApiError as assertError, basicAuth as basic, callApi as call, type JsonResponse } from '@wharf/sdk-testing';

/** Helpers of the plugin's tests: a real registry with users (db auth), projects and this plugin. */

export const ADMIN_PASSWORD = 'Admin-Passw0rd';
export const admin = basic('admin', ADMIN_PASSWORD);

/** Quick recomputes for tests: no settle window, fast event polling. */
export const QUICK = { events: { pollIntervalMs: 50 } };

/**
 * A registry with the db auth plugin, the projects RBAC plugin and this one, on `db`.
 * `quotas` is the plugin's config; `overrides` replaces top-level config keys.
 */
export async function bootRegistry(
  db: TestDatabase,
  options: { quotas?: Record<string, unknown>; overrides?: Record<string, unknown>; plugins?: readonly WharfPlugin[]; extensions?: Record<string, unknown>; dataDir?: string; withQuotas?: boolean } = {},
): Promise<TestRegistry> {
  const before = process.env.WHARF_ADMIN_PASSWORD;
  process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
  const withQuotas = options.withQuotas ?? true;
  try {
    return await startTestRegistry({
      config: {
        database: { ...db.config },
        auth: [{ db: {} }],
        token: { enabled: false },
        rbac: { projects: {} },
        server: { trustProxy: true },
        ...QUICK,
        extensions: { ...(withQuotas ? { quotas: { reconcile: { settleSeconds: 0 }, ...options.quotas } } : {}), ...options.extensions },
        ...options.overrides,
      },
      plugins: [rbacProjectsPlugin, ...(withQuotas ? [quotasPlugin] : []), ...(options.plugins ?? [])],
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    });
  } finally {
    if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
    else process.env.WHARF_ADMIN_PASSWORD = before;
  }
}

/** A blob of `size` bytes whose content is determined by `seed`. */
export function sizedBlob(seed: string, size: number): ImageBlob {
  const bytes = Buffer.alloc(size, seed);
  bytes.write(seed, 0);
  return { mediaType: 'application/octet-stream', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size, bytes };
}

/** Uploads a blob monolithically (POST then PUT); returns the response of the PUT. */
export async function uploadBlob(url: string, repository: string, blob: ImageBlob, auth: string): Promise<{ status: number; body: any; location: string }> {
  const start = await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: { authorization: auth } });
  await start.arrayBuffer();
  assert.equal(start.status, 202);
  const location = new URL(start.headers.get('location') ?? '', url);
  const target = new URL(location);
  target.searchParams.set('digest', blob.digest);
  const res = await fetch(target, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/octet-stream' }, body: blob.bytes });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, location: location.toString() };
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, tries = 200): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
