import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The plugin's tables: the runs (history and progress), their log lines, the lock that keeps
 * one collection at a time across nodes, and the schedule set through the API. Times are
 * BIGINT epoch milliseconds, as in the kernel's tables.
 */

export const TABLES = Object.freeze({ runs: 'gc_runs', logs: 'gc_run_logs', lock: 'gc_lock', settings: 'gc_settings' });

export function gcMigrations(dialect: DatabaseDialect): PluginMigration[] {
  const base = (t: Knex.CreateTableBuilder) => {
    if (dialect !== 'mysql') return;
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
  };
  return [
    {
      name: '001_gc',
      async up(knex: Knex): Promise<void> {
        await knex.schema.createTable(TABLES.runs, (t) => {
          base(t);
          t.bigIncrements('id').primary();
          t.string('status', 16).notNullable();
          t.string('trigger', 16).notNullable();
          t.string('requested_by', 255).nullable();
          t.text('options').notNullable();
          t.string('job_id', 64).nullable();
          t.boolean('stop_requested').notNullable().defaultTo(false);
          t.bigInteger('requested_at').notNullable();
          t.bigInteger('started_at').nullable();
          t.bigInteger('finished_at').nullable();
          t.string('phase', 32).nullable();
          t.bigInteger('candidates').notNullable().defaultTo(0);
          t.bigInteger('held_back').notNullable().defaultTo(0);
          t.bigInteger('blobs_deleted').notNullable().defaultTo(0);
          t.bigInteger('blobs_kept').notNullable().defaultTo(0);
          t.bigInteger('bytes_freed').notNullable().defaultTo(0);
          t.bigInteger('artifacts_deleted').notNullable().defaultTo(0);
          t.bigInteger('uploads_purged').notNullable().defaultTo(0);
          t.string('error', 1024).nullable();
          t.index(['requested_at'], 'gc_runs_requested');
        });
        await knex.schema.createTable(TABLES.logs, (t) => {
          base(t);
          t.bigIncrements('id').primary();
          t.bigInteger('run_id').unsigned().notNullable().references('id').inTable(TABLES.runs).onDelete('CASCADE');
          t.bigInteger('at').notNullable();
          t.string('message', 2048).notNullable();
          t.index(['run_id', 'id'], 'gc_run_logs_run');
        });
        await knex.schema.createTable(TABLES.lock, (t) => {
          base(t);
          t.string('name', 32).primary();
          t.string('holder', 128).nullable();
          t.bigInteger('run_id').nullable();
          t.bigInteger('until').notNullable().defaultTo(0);
        });
        await knex(TABLES.lock).insert({ name: 'gc', holder: null, run_id: null, until: 0 });
        await knex.schema.createTable(TABLES.settings, (t) => {
          base(t);
          t.string('name', 32).primary();
          t.string('value', 255).nullable();
          t.bigInteger('updated_at').notNullable();
          t.string('updated_by', 255).nullable();
        });
      },
      async down(knex: Knex): Promise<void> {
        for (const table of [TABLES.settings, TABLES.lock, TABLES.logs, TABLES.runs]) await knex.schema.dropTableIfExists(table);
      },
    },
  ];
}
