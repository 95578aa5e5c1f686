import { callApi as call } from '@wharf/sdk-testing';
import { startTestRegistry, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import type { Principal, WharfPlugin } from '@wharf/sdk';
import { rbacProjectsPlugin } from './index.js';

/** Helpers shared by the plugin's tests: a real registry with the plugin, on a real database. */

export interface Booted {
  readonly server: TestRegistry;
  readonly url: string;
  close(): Promise<void>;
}

export interface BootOptions {
  /** Config over the defaults (e.g. `auth`, `token`). */
  readonly overrides?: Record<string, unknown>;
  /** In-code plugins besides this one. */
  readonly plugins?: readonly WharfPlugin[];
}

/** A registry with this plugin (and whatever `overrides` adds) listening on a free port. */
export async function bootWithProjects(db: TestDatabase, section: Record<string, unknown> = {}, options: BootOptions = {}): Promise<Booted> {
  // The kernel's secure defaults (token service on, db auth) unless `overrides` says otherwise.
  const server = await startTestRegistry({
    config: {
      database: { ...db.config },
      auth: [{ db: {} }],
      token: { enabled: true },
      rbac: { projects: section },
      ...options.overrides,
    },
    plugins: [rbacProjectsPlugin, ...(options.plugins ?? [])],
  });
  return { server, url: server.url, close: () => server.close() };
}

export const ADMIN_PASSWORD = 'Admin-Passw0rd';

/**
 * A registry with the db auth plugin in front of this one, its administrator's password set
 * through `WHARF_ADMIN_PASSWORD` (read from the environment when the kernel is ready).
 * X-Forwarded-For is trusted so tests can spread callers over addresses (the failed-login
 * slowdown is per address).
 */
export async function bootWithUsers(db: TestDatabase, section: Record<string, unknown> = {}, options: BootOptions = {}): Promise<Booted> {
  const before = process.env.WHARF_ADMIN_PASSWORD;
  process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
  try {
    return await bootWithProjects(db, section, {
      ...options,
      overrides: { auth: [{ db: {} }], server: { trustProxy: true }, ...options.overrides },
    });
  } finally {
    if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
    else process.env.WHARF_ADMIN_PASSWORD = before;
  }
}

export function user(subject: string, groups: string[] = [], admin = false): Principal {
  return { subject, kind: 'user', provider: 'test', groups, admin };
}

export function robot(name: string): Principal {
  return { subject: name, kind: 'robot', provider: 'projects', groups: [], admin: false };
}



/** The `access` claim of a token from `/service/token` for the given scope. */
export async function grantedAccess(url: string, auth: string, scope: string): Promise<{ status: number; access: { type: string; name: string; actions: string[] }[] }> {
  const res = await call(url, 'GET', `/service/token?service=wharf&scope=${encodeURIComponent(scope)}`, { auth });
  if (res.status !== 200) return { status: res.status, access: [] };
  const payload = JSON.parse(Buffer.from(String(res.body.token).split('.')[1]!, 'base64url').toString('utf8')) as { access: { type: string; name: string; actions: string[] }[] };
  return { status: 200, access: payload.access };
}

// The JSON client and credentials of every management API test, under this file's short names.
export { assertApiError as assertError, basicAuth as basic, callApi as call, type JsonResponse } from '@wharf/sdk-testing';
