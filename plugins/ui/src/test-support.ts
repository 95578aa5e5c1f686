import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { startTestRegistry, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import type { Writable } from 'node:stream';
import { uiPlugin } from './index.js';

/** Helpers of the plugin's tests: a real registry with db users, projects and the UI. */

export const ADMIN_PASSWORD = 'Admin-Passw0rd-UI';
export const basic = (name: string, password: string): string => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

export async function bootRegistry(db: TestDatabase, overrides: Record<string, unknown> = {}, logDestination?: Writable): Promise<TestRegistry> {
  const before = process.env.WHARF_ADMIN_PASSWORD;
  process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
  try {
    return await startTestRegistry({
      config: {
        database: { ...db.config },
        auth: [{ db: {} }],
        rbac: { projects: {} },
        extensions: { ui: {} },
        server: { trustProxy: true },
        ...overrides,
      },
      plugins: [rbacProjectsPlugin, uiPlugin],
      ...(logDestination ? { logDestination } : {}),
    });
  } finally {
    if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
    else process.env.WHARF_ADMIN_PASSWORD = before;
  }
}

let nextAddress = 1;

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One request, from a fresh client address (the login slowdown is per address). */
export async function call(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Answer> {
  const all: Record<string, string> = { 'x-forwarded-for': `198.51.100.${nextAddress++ % 250}`, ...headers };
  if (body !== undefined) all['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

export interface Login {
  /** `name=value` for a Cookie header. */
  readonly cookie: string;
  readonly setCookie: string;
  readonly csrf: string;
}

/** Logs in through the UI's session endpoint. */
export async function login(url: string, user: string, password: string): Promise<Login> {
  const res = await call(url, 'POST', '/_ext/ui/session', { authorization: basic(user, password) });
  if (res.status !== 201) throw new Error(`login of ${user} answered ${res.status}: ${res.text}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0] as string, setCookie, csrf: res.body.csrfToken };
}
