import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type CapturedLogs, captureLogs, startTestRegistry, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { fileURLToPath } from 'node:url';
import { authDbPlugin } from './index.js';
import { ADMIN_PASSWORD_ENV } from './bootstrap.js';

/** Helpers shared by the plugin's tests: real registries on real databases. */

export { captureLogs, type CapturedLogs };

/** The `wharf` binary of the distribution, which ships this plugin and its `user` commands. */
export const WHARF_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/bin/wharf.js');

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

/**
 * A registry with only the `db` auth provider, listening on a free port, otherwise on the
 * kernel's secure defaults (token service on, projects RBAC).
 */
export function bootRegistry(options: BootOptions): Promise<TestRegistry> {
  return startTestRegistry({
    dataDir: options.dataDir,
    config: {
      log: { level: 'debug', format: 'json' },
      database: { ...options.db.config },
      auth: [{ db: options.section ?? {} }],
      rbac: { projects: {} },
      token: { enabled: true },
    },
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
