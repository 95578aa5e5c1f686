import type { Knex } from 'knex';

/**
 * The blob deletion protocol (ADR 0029). `reserved_until`: an upload commit is moving bytes
 * into place for this digest; no collector may claim the row before that time. `deleting_at`
 * and `deleting_run`: a collector claimed the row (links already gone in the same
 * transaction) and is deleting its bytes; no writer may link it until the row is gone.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('blobs', (t) => {
    t.bigInteger('reserved_until').nullable();
    t.bigInteger('deleting_at').nullable();
    t.string('deleting_run', 64).nullable();
    t.index(['deleting_at'], 'blobs_deleting_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('blobs', (t) => {
    t.dropIndex(['deleting_at'], 'blobs_deleting_at');
    t.dropColumn('deleting_run');
    t.dropColumn('deleting_at');
    t.dropColumn('reserved_until');
  });
}
