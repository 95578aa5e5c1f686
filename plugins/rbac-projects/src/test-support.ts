import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '@wharf/core';
import type { TestDatabase } from '@wharf/core/test-support';
import type { Principal } from '@wharf/sdk';
import { rbacProjectsPlugin } from './index.js';

/** Helpers shared by the plugin's tests: a real registry with the plugin, on a real database. */

export interface Booted {
  readonly server: RunningServer;
  close(): Promise<void>;
}

export async function bootWithProjects(db: TestDatabase, section: Record<string, unknown> = {}): Promise<Booted> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-rbac-'));
  const server = await startServer({
    config: {
      dataDir,
      log: { level: 'silent' },
      storage: { fs: { fsync: false } },
      database: { ...db.config },
      rbac: { projects: section },
    },
    listen: '127.0.0.1:0',
    env: {},
    plugins: [rbacProjectsPlugin],
  });
  return {
    server,
    close: async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function user(subject: string, groups: string[] = [], admin = false): Principal {
  return { subject, kind: 'user', provider: 'test', groups, admin };
}

export function robot(name: string): Principal {
  return { subject: name, kind: 'robot', provider: 'projects', groups: [], admin: false };
}
