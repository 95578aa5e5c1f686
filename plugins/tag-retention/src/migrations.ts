import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The retention tables: one policy per project (rules as JSON), executions (the rules they ran
 * with, counts), one task per repository of an execution, and one decision per artifact of a
 * task (the task's log). Times are BIGINT epoch milliseconds. Bookkeeping in the kernel's
 * `wharf_extension_tag_retention_migrations`. Append new migrations; never edit a shipped one.
 */

type Table = Knex.CreateTableBuilder;

export const TABLES = Object.freeze({
  policies: 'retention_policies',
  executions: 'retention_executions',
  tasks: 'retention_tasks',
  decisions: 'retention_decisions',
});

export function retentionMigrations(dialect: DatabaseDialect): PluginMigration[] {
  const create = (knex: Knex, name: string, build: (t: Table) => void) =>
    knex.schema.createTable(name, (t) => {
      // MySQL: InnoDB, and utf8mb4_bin so names compare byte-wise as on the others.
      if (dialect === 'mysql') {
        t.engine('InnoDB');
        t.charset('utf8mb4');
        t.collate('utf8mb4_bin');
      }
      build(t);
    });
  const ref = (t: Table, column: string) => t.bigInteger(column).unsigned().notNullable();
  return [
    {
      name: '001_retention',
      async up(knex: Knex): Promise<void> {
        await create(knex, TABLES.policies, (t) => {
          t.string('project', 255).primary();
          t.text('rules').notNullable();
          t.string('cron', 128);
          t.string('updated_by', 255);
          t.bigInteger('updated_at').notNullable();
        });
        await create(knex, TABLES.executions, (t) => {
          t.bigIncrements('id').primary();
          t.string('project', 255).notNullable();
          t.string('trigger', 16).notNullable();
          t.boolean('dry_run').notNullable();
          t.string('status', 16).notNullable();
          t.string('status_text', 2048).notNullable().defaultTo('');
          t.text('rules').notNullable();
          t.integer('total').notNullable().defaultTo(0);
          t.integer('retained').notNullable().defaultTo(0);
          t.integer('deleted').notNullable().defaultTo(0);
          t.string('started_by', 255);
          t.bigInteger('started_at').notNullable();
          t.bigInteger('finished_at');
          t.index(['project', 'id']);
        });
        await create(knex, TABLES.tasks, (t) => {
          t.bigIncrements('id').primary();
          ref(t, 'execution_id').references('id').inTable(TABLES.executions).onDelete('CASCADE');
          t.string('repository', 255).notNullable();
          t.string('status', 16).notNullable();
          t.integer('total').notNullable().defaultTo(0);
          t.integer('retained').notNullable().defaultTo(0);
          t.integer('deleted').notNullable().defaultTo(0);
          t.string('error', 2048);
          t.bigInteger('started_at').notNullable();
          t.bigInteger('finished_at');
          // A job run again after a crash finds the repository's task instead of adding one.
          t.unique(['execution_id', 'repository'], { indexName: 'retention_tasks_repository' });
        });
        await create(knex, TABLES.decisions, (t) => {
          t.bigIncrements('id').primary();
          ref(t, 'task_id').references('id').inTable(TABLES.tasks).onDelete('CASCADE');
          t.string('digest', 255).notNullable();
          t.string('tags', 4096).notNullable();
          t.string('outcome', 16).notNullable();
          t.string('reason', 2048).notNullable();
          t.bigInteger('at').notNullable();
          t.index(['task_id', 'id']);
        });
      },
      async down(knex: Knex): Promise<void> {
        for (const table of [TABLES.decisions, TABLES.tasks, TABLES.executions, TABLES.policies]) await knex.schema.dropTableIfExists(table);
      },
    },
  ];
}
