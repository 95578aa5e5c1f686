import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDatabaseService, createEventsRuntime, createMetadataStore, EmbeddedJobService, type EventsRuntime, type JobRuntime } from '@wharf/core';
import type { DatabaseService, KernelSettings, Logger, LogSinkCounters, LogSinkStats, RepositoryIndex, StorageDriver } from '@wharf/sdk';
import { MemoryDriver, MemoryStorage } from './fixtures/memory-driver.js';
import { captureLogs, type CapturedLogs } from './logs.js';

/**
 * The kernel services a plugin depends on, made for a unit test without a kernel. Real where the
 * real thing is cheap: the database is a SQLite file with the kernel's schema, the jobs service
 * is the kernel's embedded backend on it (handlers really run, in this process), the logger is
 * the kernel's logger writing into memory. Storage keeps blobs in memory and the repository index
 * lists the names it was given.
 */

/**
 * The database service on a temp SQLite file, and how to close it.
 * @since 0.1.0
 */
export interface MockDatabase extends DatabaseService {
  /** The SQLite file. */
  readonly filename: string;
  /** Closes the connection and removes the file. Idempotent. */
  close(): Promise<void>;
}

/**
 * The jobs service on a {@link MockDatabase}: the kernel's embedded backend with a fast poll.
 * @since 0.1.0
 */
export interface MockJobs extends JobRuntime {}

/**
 * The durable events service with its delivery loop (`service` is `coreServices.events`).
 * @since 0.2.0
 */
export type MockEvents = EventsRuntime;

/**
 * Kernel settings, with the data directory made for the test.
 * @since 0.1.0
 */
export interface MockSettings extends KernelSettings {
  /** Removes the data directory when it was made here. Idempotent. */
  cleanup(): Promise<void>;
}

/**
 * Factories of the kernel services, one per `coreServices` ref, for {@link startTestPlugin} or
 * for building a plugin's classes by hand in a unit test.
 * @example
 * const database = await mockServices.database.factory();
 * const users = new KnexUserDirectory(database, { policy, logger: mockServices.logger.factory().logger });
 * @since 0.1.0
 */
export const mockServices = Object.freeze({
  /** `coreServices.logger`: a logger at `trace` that keeps every line (see {@link captureLogs}). */
  logger: Object.freeze({
    factory: (options: { readonly level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' } = {}): CapturedLogs => captureLogs(options),
  }),
  /** `coreServices.settings`: a fresh temp data directory unless `dataDir` is given. */
  settings: Object.freeze({
    async factory(options: { readonly dataDir?: string; readonly publicUrl?: string } = {}): Promise<MockSettings> {
      const made = options.dataDir === undefined ? await mkdtemp(path.join(os.tmpdir(), 'wharf-mock-')) : undefined;
      let cleaned = false;
      return Object.freeze({
        dataDir: path.resolve(options.dataDir ?? (made as string)),
        publicUrl: options.publicUrl ?? 'http://127.0.0.1:5000',
        async cleanup() {
          if (made === undefined || cleaned) return;
          cleaned = true;
          await rm(made, { recursive: true, force: true });
        },
      });
    },
  }),
  /** `coreServices.database`: a temp SQLite file, migrated to the kernel's schema. */
  database: Object.freeze({
    async factory(options: { readonly logger?: Logger } = {}): Promise<MockDatabase> {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-mock-db-'));
      const filename = path.join(dir, 'wharf.db');
      const logger = options.logger ?? captureLogs({ level: 'warn' }).logger;
      const store = createMetadataStore({ client: 'sqlite', filename }, logger);
      let closing: Promise<void> | undefined;
      const close = (): Promise<void> => (closing ??= store.close().finally(() => rm(dir, { recursive: true, force: true })));
      try {
        await store.migrate();
      } catch (err) {
        await close();
        throw err;
      }
      const service = createDatabaseService(store.knex);
      return Object.freeze({
        get knex() {
          return service.knex;
        },
        dialect: service.dialect,
        transaction: service.transaction.bind(service),
        isUniqueViolation: service.isUniqueViolation.bind(service),
        isTransientConflict: service.isTransientConflict.bind(service),
        execute: service.execute.bind(service),
        executeMany: service.executeMany.bind(service),
        filename,
        close,
      });
    },
  }),
  /**
   * `coreServices.events`: the kernel's durable events on a {@link MockDatabase}, delivering to
   * consumers once `start(jobs)` ran (startTestPlugin does that at ready).
   */
  events: Object.freeze({
    factory(options: { readonly database: () => MockDatabase; readonly logger?: Logger }): MockEvents {
      return createEventsRuntime({
        knex: () => options.database().knex,
        settings: { pollIntervalMs: 50, leaseSeconds: 30, maxAttempts: 3, retentionHours: 1, deadRetentionHours: 1, pullBatchSize: 100, pullFlushMs: 0 },
        logger: options.logger ?? captureLogs({ level: 'warn' }).logger,
      });
    },
  }),
  /** `coreServices.storage`: blobs and uploads in memory (small test data only). */
  storage: Object.freeze({
    factory: (): StorageDriver => new MemoryDriver(new MemoryStorage()),
  }),
  /**
   * `coreServices.logSinks`: reports the counters it is given; the array is read on every call,
   * so a test can change it (e.g. to see a metrics plugin export a growing drop count).
   */
  logSinks: Object.freeze({
    factory: (counters: readonly LogSinkCounters[] = []): LogSinkStats =>
      Object.freeze({
        getDroppedCount: () => counters.reduce((n, c) => n + c.dropped, 0),
        stats: () => counters.map((c) => ({ ...c })),
      }),
  }),
  /** `coreServices.repositories`: lists the given repository names, as the kernel pages them. */
  repositories: Object.freeze({
    factory: (names: readonly string[] = []): RepositoryIndex =>
      Object.freeze({
        async list(namespace: string, page: { readonly page: number; readonly pageSize: number }) {
          const matching = [...new Set(names)].filter((name) => name.startsWith(`${namespace}/`)).sort();
          const start = (page.page - 1) * page.pageSize;
          return { items: matching.slice(start, start + page.pageSize), total: matching.length };
        },
      }),
  }),
  /**
   * `coreServices.jobs`: the kernel's embedded jobs backend on `database`. Call `start()` to run
   * handlers (startTestPlugin does, after `lifecycle.ready`) and `stop()` at the end.
   */
  jobs: Object.freeze({
    factory(options: { readonly database: MockDatabase; readonly logger?: Logger }): MockJobs {
      return new EmbeddedJobService(options.database.knex, {
        logger: options.logger ?? captureLogs({ level: 'warn' }).logger,
        settings: {
          backend: 'embedded',
          redis: { prefix: 'wharf-mock' },
          leaseSeconds: 5,
          pollIntervalMs: 25,
          stopTimeoutMs: 2000,
          history: { keep: 1000, maxAgeDays: 14 },
        },
      });
    },
  }),
});
