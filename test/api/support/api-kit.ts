import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startServer, type RunningServer } from '@wharf/core';
import { createTestDatabase, type TestDatabaseName } from '@wharf/sdk-testing';
import type { WharfPlugin } from '@wharf/sdk';

/**
 * Management API tests: a real registry with the db auth plugin (its administrator's password
 * set through `WHARF_ADMIN_PASSWORD`, as operators do), optional in-code plugins, and a small
 * JSON client that keeps status, headers and the parsed body.
 */

export const ADMIN_PASSWORD = 'Admin-Pass-123';

export interface ApiRegistry {
  readonly server: RunningServer;
  readonly url: string;
  close(): Promise<void>;
}

export interface ApiRegistryOptions {
  readonly overrides?: Record<string, unknown>;
  readonly plugins?: readonly WharfPlugin[];
  /** Collects the JSON log lines (level info and above) instead of discarding them. */
  readonly logs?: string[];
}

export async function startApiRegistry(database: TestDatabaseName, options: ApiRegistryOptions = {}): Promise<ApiRegistry> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-mgmt-'));
  const db = await createTestDatabase(database);
  // The db plugin reads the bootstrap password from the process environment at ready.
  const before = process.env.WHARF_ADMIN_PASSWORD;
  process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
  let server: RunningServer;
  try {
    server = await startServer({
      listen: '127.0.0.1:0',
      dataDir,
      plugins: options.plugins,
      ...(options.logs ? { logDestination: collect(options.logs) } : {}),
      overrides: {
        log: options.logs ? { level: 'info', format: 'json' } : { level: process.env.WHARF_TEST_LOG ?? 'silent' },
        database: db.config,
        // X-Forwarded-For lets a test pick its client address (failed-login slowdown is per address).
        server: { trustProxy: true },
        auth: [{ db: {} }],
        // No RBAC plugin unless a test brings its own rules: these tests are about the kernel's
        // defaults and the users API, not project roles.
        rbac: {},
        // Nor the audit log, unless a test names it.
        logging: {},
        ...options.overrides,
      },
    });
  } finally {
    if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
    else process.env.WHARF_ADMIN_PASSWORD = before;
  }
  return {
    server,
    url: server.url,
    close: async () => {
      await server.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function collect(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      cb();
    },
  });
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
export const bearer = (token: string): string => `Bearer ${token}`;

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, or `undefined` when the body is empty or not JSON. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface CallOptions {
  readonly auth?: string;
  /** Sent as JSON unless it is a string or Buffer (sent as is). */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** One request to `<url><path>`; `path` starts with `/api/v1` or another root path. */
export async function call(url: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers.authorization = options.auth;
  let body: string | Buffer | undefined;
  if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${url}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** Asserts the error envelope: status, code, a JSON content type, and (optionally) the message. */
export function assertEnvelope(res: ApiResponse, status: number, code: string, message?: RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.ok(Array.isArray(res.body?.errors) && res.body.errors.length > 0, res.text);
  assert.equal(res.body.errors[0].code, code, res.text);
  assert.equal(typeof res.body.errors[0].message, 'string');
  if (message) assert.match(res.body.errors[0].message, message);
}

/** A token from `GET /service/token` with Basic credentials (and a refresh token when asked). */
export async function fetchToken(url: string, user: string, password: string, options: { scope?: string; offline?: boolean } = {}) {
  const params = new URLSearchParams({ service: 'wharf' });
  if (options.scope) params.set('scope', options.scope);
  if (options.offline) params.set('offline_token', 'true');
  const res = await fetch(`${url}/service/token?${params}`, { headers: { authorization: basic(user, password) } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as { token: string; refresh_token?: string };
}

/** The refresh grant of `POST /service/token`: its status. */
export async function refresh(url: string, refreshToken: string): Promise<number> {
  const res = await fetch(`${url}/service/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, service: 'wharf', client_id: 'test' }).toString(),
  });
  await res.text();
  return res.status;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
