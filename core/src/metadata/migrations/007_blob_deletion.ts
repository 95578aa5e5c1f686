import type { Knex } from 'knex';
import { dialectOf } from '../connection.js';

/**
 * The blob deletion protocol (ADR 0029). `blob_reservations`: an upload commit is moving bytes
 * into place for a digest; no collector may claim the blob while one is live (one row per
 * commit, so two commits of the same content never end each other's). `blobs.deleting_at` and
 * `deleting_run`: a collector claimed the row (links already gone in the same transaction) and
 * is deleting its bytes; no writer may link it until the row is gone.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('blobs', (t) => {
    t.bigInteger('deleting_at').nullable();
    t.string('deleting_run', 64).nullable();
    t.index(['deleting_at'], 'blobs_deleting_at');
  });
  await knex.schema.createTable('blob_reservations', (t) => {
    if (dialectOf(knex) === 'mysql') {
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
    t.string('holder', 64).primary();
    t.string('digest', 255).notNullable();
    t.bigInteger('until').notNullable();
    t.index(['digest'], 'blob_reservations_digest');
    t.index(['until'], 'blob_reservations_until');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('blob_reservations');
  await knex.schema.alterTable('blobs', (t) => {
    t.dropIndex(['deleting_at'], 'blobs_deleting_at');
    t.dropColumn('deleting_run');
    t.dropColumn('deleting_at');
  });
}
