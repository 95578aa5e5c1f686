import { startServer, type RunningServer } from '@wharf/core';
import type { TestDatabase } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD } from './api-kit.js';

/**
 * One registry node on a shared database and data directory (start two for a two-node
 * deployment): the db plugin's administrator gets ADMIN_PASSWORD, X-Forwarded-For is trusted so
 * a test can pick its client address, and `overrides` set the auth and RBAC sections.
 */
export async function startNode(dataDir: string, db: TestDatabase, overrides: Record<string, unknown>): Promise<RunningServer> {
  const before = process.env.WHARF_ADMIN_PASSWORD;
  process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
  try {
    return await startServer({
      listen: '127.0.0.1:0',
      dataDir,
      overrides: { log: { level: process.env.WHARF_TEST_LOG ?? 'silent' }, database: db.config, server: { trustProxy: true }, logging: {}, ...overrides },
    });
  } finally {
    if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
    else process.env.WHARF_ADMIN_PASSWORD = before;
  }
}
