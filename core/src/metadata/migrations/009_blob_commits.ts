import type { Knex } from 'knex';
import { dialectOf } from '../connection.js';
import { tableOptions } from './table-options.js';

/**
 * Which uploads were committed as each blob (ADR 0037), so a storage driver can delete a blob's
 * objects without looking them up (S3: the claim key holds the upload id). A row is written in
 * the reservation's transaction, before the storage commit moves any bytes, with the
 * reservation's `holder`; the link transaction clears `holder` (the commit finished). A row
 * whose holder remains belongs to a commit that failed or was cut off: its digest is deleted
 * the old way, by lookup.
 *
 * `blobs.commits_recorded`: true for rows created since this migration (every commit of them
 * is in `blob_commits`); rows from before stay false and are deleted by lookup.
 */
export async function up(knex: Knex): Promise<void> {
  const base = tableOptions(dialectOf(knex));
  await knex.schema.alterTable('blobs', (t) => {
    t.boolean('commits_recorded').notNullable().defaultTo(false);
  });
  await knex.schema.createTable('blob_commits', (t) => {
    base(t);
    t.string('digest', 255).notNullable();
    t.string('upload_id', 128).notNullable();
    t.string('holder', 64).nullable();
    t.primary(['digest', 'upload_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('blob_commits');
  await knex.schema.alterTable('blobs', (t) => {
    t.dropColumn('commits_recorded');
  });
}
