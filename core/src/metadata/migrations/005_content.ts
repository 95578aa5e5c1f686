import type { Knex } from 'knex';

/**
 * Content services (core/src/content): when each manifest was last pulled, and an index for
 * "which manifests name this subject" across repositories (garbage collection asks it before
 * deleting a manifest; 001 only indexes it within one repository). `pulled_at` is written in
 * batches by `recordPulls`, never once per pull.
 */

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('manifests', (t) => {
    // BIGINT epoch milliseconds, as every time column (see `sql.ts`).
    t.bigInteger('pulled_at').nullable();
    t.index(['subject_digest'], 'manifests_subject_digest');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('manifests', (t) => {
    t.dropIndex(['subject_digest'], 'manifests_subject_digest');
    t.dropColumn('pulled_at');
  });
}
