import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { startTestRegistry, type ImageBlob, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import type { WharfPlugin } from '@wharf/sdk';
import { quotasPlugin } from './index.js';

/** Helpers of the plugin's tests: a real registry with users (db auth), projects and this plugin. */

export const ADMIN_PASSWORD = 'Admin-Passw0rd';
export const basic = (name: string, password: string): string => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
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

export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let nextAddress = 1;

/** One HTTP request with an optional JSON body, from a fresh client address each time (the login slowdown is per address). */
export async function call(url: string, method: string, pathAndQuery: string, options: { auth?: string | undefined; body?: unknown } = {}): Promise<JsonResponse> {
  const headers: Record<string, string> = { 'x-forwarded-for': `203.0.113.${nextAddress++ % 250}` };
  if (options.auth) headers.authorization = options.auth;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${pathAndQuery}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** Asserts the management API's error envelope. */
export function assertError(res: JsonResponse, status: number, code: string, message?: RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.errors?.[0]?.code, code, res.text);
  if (message) assert.match(res.body.errors[0].message, message);
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
