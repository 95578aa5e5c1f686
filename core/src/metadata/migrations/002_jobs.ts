import type { Knex } from 'knex';
import { dialectOf } from '../connection.js';
import { epochMs, tableOptions } from './table-options.js';

/**
 * The embedded jobs backend (core/src/jobs/embedded): jobs, their log lines and cron schedules.
 * `dedupe_key` is unique and set only while a job is queued or running, so "one live job per
 * key" holds across nodes; `tick_key` (schedule name + tick time) is never cleared, so a cron
 * tick can only ever produce one job. Times are BIGINT epoch ms, as everywhere (see `sql.ts`).
 */

type Table = Knex.CreateTableBuilder;

export async function up(knex: Knex): Promise<void> {
  const dialect = dialectOf(knex);
  const base = tableOptions(dialect);
  // LONGTEXT on MySQL: TEXT stops at 64 KiB.
  const json = (t: Table, column: string): Knex.ColumnBuilder => (dialect === 'mysql' ? t.text(column, 'longtext') : t.text(column));

  await knex.schema.createTable('jobs', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    t.string('type', 128).notNullable();
    json(t, 'payload').notNullable();
    t.string('status', 16).notNullable();
    // Runs started (a run whose node died counts too).
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('max_attempts').notNullable();
    t.string('dedupe_key', 255).nullable().unique({ indexName: 'jobs_dedupe_key' });
    t.string('tick_key', 255).nullable().unique({ indexName: 'jobs_tick_key' });
    epochMs(t, 'run_at').notNullable();
    t.string('lease_owner', 128).nullable();
    epochMs(t, 'lease_until').nullable();
    t.boolean('cancel_requested').notNullable().defaultTo(false);
    t.string('error', 2048).nullable();
    epochMs(t, 'created_at').notNullable();
    epochMs(t, 'started_at').nullable();
    epochMs(t, 'finished_at').nullable();
    t.index(['type', 'status', 'run_at'], 'jobs_due');
    t.index(['status', 'lease_until'], 'jobs_leases');
    t.index(['type', 'finished_at'], 'jobs_history');
  });

  await knex.schema.createTable('job_logs', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    t.bigInteger('job_id').unsigned().notNullable().references('id').inTable('jobs').onDelete('CASCADE');
    epochMs(t, 'at').notNullable();
    t.string('message', 2048).notNullable();
    t.index(['job_id', 'id']);
  });

  await knex.schema.createTable('job_schedules', (t) => {
    base(t);
    t.string('name', 128).primary();
    t.string('cron', 128).notNullable();
    t.string('type', 128).notNullable();
    json(t, 'payload').notNullable();
    // The tick not yet fired; a node fires it by moving this forward with a conditional UPDATE.
    epochMs(t, 'next_run_at').notNullable();
    epochMs(t, 'created_at').notNullable();
    epochMs(t, 'updated_at').notNullable();
    t.index(['next_run_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['job_schedules', 'job_logs', 'jobs']) await knex.schema.dropTableIfExists(table);
}
