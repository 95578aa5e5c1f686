import assert from 'node:assert/strict';
import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { startTestRegistry, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import type { WharfPlugin } from '@wharf/sdk';
import { tagRetentionPlugin } from './index.js';

/** Helpers of the plugin's tests: a real registry with users (db auth), projects and this plugin. */

export const ADMIN_PASSWORD = 'Admin-Passw0rd';
export const basic = (name: string, password: string): string => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

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

export interface JsonResponse {
  readonly status: number;
  readonly text: string;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let nextAddress = 1;

/** One HTTP request with an optional JSON body, from a fresh client address each time (the login slowdown is per address). */
export async function call(url: string, method: string, pathAndQuery: string, options: { auth?: string | undefined; body?: unknown } = {}): Promise<JsonResponse> {
  const headers: Record<string, string> = { 'x-forwarded-for': `198.51.100.${nextAddress++ % 250}` };
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
  return { status: res.status, text, body };
}

export function assertError(res: JsonResponse, status: number, code: string, message?: RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.errors?.[0]?.code, code, res.text);
  if (message) assert.match(res.body.errors[0].message, message);
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
