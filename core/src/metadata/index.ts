import type { Logger } from 'pino';
import type { DatabaseService } from '@wharf/sdk';
import type { DatabaseConfig, MetadataStore } from './types.js';
import { acquireKnex } from './connection.js';
import { createDatabaseService } from './database-service.js';
import { KnexMetadataStore } from './knex-metadata-store.js';

export type * from './types.js';
export { createKnex, dialectOf, type Dialect } from './connection.js';
export { KnexMetadataStore } from './knex-metadata-store.js';
export { MIGRATION_TABLE } from './migrator.js';
export { isUniqueViolation, isTransientConflict } from './db-errors.js';
export { createDatabaseService, ownerMigrationTable } from './database-service.js';

/**
 * Opens the metadata store a config names. Nothing touches the database until the first call;
 * run {@link MetadataStore.migrate} at boot.
 */
export function createMetadataStore(config: DatabaseConfig, logger: Logger): MetadataStore {
  const log = logger.child({ component: 'metadata', client: config.client });
  const { knex, release } = acquireKnex(config, log);
  return new KnexMetadataStore(knex, log, { release });
}

/**
 * `coreServices.database` over a metadata store: the same knex instance, so plugins' tables
 * share the store's connection pool (and, on SQLite, its single connection).
 */
export function databaseServiceOf(store: MetadataStore, logger: Logger): DatabaseService {
  if (!(store instanceof KnexMetadataStore)) throw new TypeError('the database service needs the knex metadata store');
  return createDatabaseService(store.knex, logger.child({ component: 'database' }));
}
