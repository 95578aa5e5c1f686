import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { startServer, type RunningServer } from '@wharf/core';
import type { TestDatabase } from '@wharf/core/test-support';
import { authDbPlugin } from './index.js';
import { ADMIN_PASSWORD_ENV } from './bootstrap.js';

/** Helpers shared by the plugin's tests: real registries on real databases. */

/** The `wharf` binary of the distribution, which ships this plugin and its `user` commands. */
export const WHARF_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/bin/wharf.js');

export interface CapturedLogs {
  readonly stream: Writable;
  text(): string;
}

export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

export async function tempDir(prefix = 'wharf-auth-db-'): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface BootOptions {
  readonly db: TestDatabase;
  readonly dataDir: string;
  /** The `db` section; default `{}`. */
  readonly section?: Record<string, unknown>;
  readonly logs?: CapturedLogs;
}

/** A registry with only the `db` auth provider, listening on a free port. */
export function bootRegistry(options: BootOptions): Promise<RunningServer> {
  return startServer({
    config: {
      dataDir: options.dataDir,
      log: { level: 'debug', format: 'json' },
      storage: { fs: { fsync: false } },
      database: { ...options.db.config },
      auth: [{ db: options.section ?? {} }],
    },
    listen: '127.0.0.1:0',
    env: {},
    plugins: [authDbPlugin],
    logDestination: (options.logs ?? captureLogs()).stream,
  });
}

/** Runs `fn` with `WHARF_ADMIN_PASSWORD` set to `password` (or unset), then restores it. */
export async function withAdminPassword<T>(password: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env[ADMIN_PASSWORD_ENV];
  if (password === undefined) delete process.env[ADMIN_PASSWORD_ENV];
  else process.env[ADMIN_PASSWORD_ENV] = password;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env[ADMIN_PASSWORD_ENV];
    else process.env[ADMIN_PASSWORD_ENV] = before;
  }
}

export const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** `GET /v2/` with Basic credentials: the status and the first OCI error code. */
export async function getV2(url: string, user: string, password: string): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(`${url}/v2/`, { headers: { authorization: basic(user, password) } });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code };
}
