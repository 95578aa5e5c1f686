import type { Knex } from 'knex';
import { dialectOf } from '../connection.js';
import { epochMs, tableOptions } from './table-options.js';

/**
 * The last boot's configuration, as salted hashes per key path (never a value), so the next
 * boot can say which key paths changed (core/src/config/config-changes.ts). One row per
 * deployment (`id = 'deployment'`).
 */
export async function up(knex: Knex): Promise<void> {
  const base = tableOptions(dialectOf(knex));
  await knex.schema.createTable('config_fingerprints', (t) => {
    base(t);
    t.string('id', 32).primary();
    t.string('salt', 64).notNullable();
    // JSON: { "<key path>": "<hash>" }
    t.text('hashes', 'mediumtext').notNullable();
    epochMs(t, 'updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('config_fingerprints');
}
