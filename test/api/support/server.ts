import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '@wharf/core';
import { createTestDatabase, selectedDatabases, type TestDatabaseName } from '@wharf/sdk-testing';
import { OciClient } from './client.js';

export interface TestRegistry {
  readonly url: string;
  readonly client: OciClient;
  readonly dataDir: string;
  /** Stops the server, keeping data and database (for restart tests). */
  stop(): Promise<void>;
  /** Starts a new server on the same data and database. */
  restart(): Promise<TestRegistry>;
  /** Stops and removes everything. */
  close(): Promise<void>;
}

/** An open registry (no auth, RBAC or tokens): the OCI protocol tests need no credentials. */
export const OPEN_REGISTRY = Object.freeze({ auth: [], rbac: {}, token: { enabled: false } });

/**
 * Boots a real Wharf (kernel, HTTP, fs storage, the named database) on an ephemeral port, open
 * unless `overrides` set `auth`, `rbac` or `token`.
 * `overrides` are merged into the config as an operator's YAML would be.
 */
export async function startTestRegistry(database: TestDatabaseName, overrides: Record<string, unknown> = {}): Promise<TestRegistry> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-api-'));
  const db = await createTestDatabase(database);
  const boot = async (): Promise<TestRegistry> => {
    const server = await startServer({
      listen: '127.0.0.1:0',
      dataDir,
      // No audit log unless a test names it (`logging: { audit: {} }`): these tests are about the kernel.
      overrides: { log: { level: process.env.WHARF_TEST_LOG ?? 'silent' }, database: db.config, ...OPEN_REGISTRY, logging: {}, ...overrides },
    });
    return {
      url: server.url,
      client: new OciClient(server.url),
      dataDir,
      stop: () => server.close(),
      restart: async () => {
        await server.close();
        return boot();
      },
      close: async () => {
        await server.close();
        await db.drop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  };
  return boot();
}

/** The databases API tests run against (env `WHARF_TEST_DATABASES`, default all three). */
export const testDatabaseNames = selectedDatabases;
