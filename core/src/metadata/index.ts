import type { Logger } from 'pino';
import type { DatabaseConfig, MetadataStore } from './types.js';
import { acquireKnex } from './connection.js';
import { KnexMetadataStore } from './knex-metadata-store.js';

export type * from './types.js';
export { createKnex, dialectOf, type Dialect } from './connection.js';
export { KnexMetadataStore } from './knex-metadata-store.js';
export { MIGRATION_TABLE } from './migrator.js';
export { isUniqueViolation, isTransientConflict } from './db-errors.js';
export { createDatabaseService, createOwnerMigrator, ownerMigrationTable, type OwnerMigrator } from './database-service.js';

/**
 * Opens the metadata store a config names. Nothing touches the database until the first call;
 * run {@link MetadataStore.migrate} at boot.
 */
export function createMetadataStore(config: DatabaseConfig, logger: Logger): KnexMetadataStore {
  const log = logger.child({ component: 'metadata', client: config.client });
  const { knex, release } = acquireKnex(config, log);
  return new KnexMetadataStore(knex, log, { release });
}
