import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The replication tables: registry endpoints (credentials encrypted with `coreServices.secrets`),
 * policies, and the history of runs (executions, one task per artifact, task log lines). Tasks
 * are unique per execution and artifact, so planning an execution twice (a crash mid-plan) never
 * copies anything twice. Executions started by an event remember it, so a redelivered event
 * starts none twice. Times are BIGINT epoch milliseconds; bookkeeping in
 * `wharf_replication_engine_migrations`. Append new migrations; never edit a shipped one.
 *
 * Until this plugin existed the kernel created these tables (its migrations 003 and 004, which
 * it keeps as no-ops). `001_replication` therefore creates each table only where it is missing
 * and adds `event_id` only where it is missing: a database migrated by an older kernel keeps its
 * endpoints, policies and history untouched.
 */

type Table = Knex.CreateTableBuilder;

export const TABLES = Object.freeze({
  endpoints: 'replication_endpoints',
  policies: 'replication_policies',
  executions: 'replication_executions',
  tasks: 'replication_tasks',
  taskLogs: 'replication_task_logs',
});

export function replicationMigrations(dialect: DatabaseDialect): PluginMigration[] {
  // MySQL: InnoDB, and utf8mb4_bin so names compare byte-wise as on the others (the kernel's tables do the same).
  const base = (t: Table) => {
    if (dialect !== 'mysql') return;
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
  };
  const ref = (t: Table, column: string): Knex.ColumnBuilder => t.bigInteger(column).unsigned().notNullable();
  const epochMs = (t: Table, column: string): Knex.ColumnBuilder => t.bigInteger(column);

  async function createMissing(knex: Knex, name: string, build: (t: Table) => void): Promise<void> {
    if (await knex.schema.hasTable(name)) return;
    await knex.schema.createTable(name, (t) => {
      base(t);
      build(t);
    });
  }

  return [
    {
      name: '001_replication',
      async up(knex: Knex): Promise<void> {
        await createMissing(knex, TABLES.endpoints, (t) => {
          t.bigIncrements('id').primary();
          t.string('name', 128).notNullable().unique();
          t.string('description', 1024).notNullable().defaultTo('');
          t.string('type', 64).notNullable();
          t.string('url', 2048).notNullable();
          t.string('username', 255);
          // `v1:<iv>:<tag>:<ciphertext>` from coreServices.secrets; never the plain secret.
          t.text('secret');
          t.boolean('insecure').notNullable().defaultTo(false);
          t.text('ca_certificate');
          epochMs(t, 'created_at').notNullable();
          epochMs(t, 'updated_at').notNullable();
        });
        await createMissing(knex, TABLES.policies, (t) => {
          t.bigIncrements('id').primary();
          t.string('name', 128).notNullable().unique();
          t.string('description', 1024).notNullable().defaultTo('');
          t.string('mode', 8).notNullable();
          ref(t, 'endpoint_id').references('id').inTable(TABLES.endpoints);
          // JSON: { repositories: Pattern[], tags: Pattern[] }
          t.text('filters').notNullable();
          t.string('destination_namespace', 255);
          t.string('flatten', 8).notNullable();
          t.string('trigger', 16).notNullable();
          t.string('cron', 128);
          t.boolean('replicate_deletion').notNullable().defaultTo(false);
          t.boolean('override').notNullable().defaultTo(true);
          t.integer('bandwidth_kbps').notNullable().defaultTo(-1);
          t.integer('chunk_size');
          t.boolean('enabled').notNullable().defaultTo(true);
          epochMs(t, 'created_at').notNullable();
          epochMs(t, 'updated_at').notNullable();
        });
        await createMissing(knex, TABLES.executions, (t) => {
          t.bigIncrements('id').primary();
          ref(t, 'policy_id').references('id').inTable(TABLES.policies).onDelete('CASCADE');
          t.string('trigger', 16).notNullable();
          t.string('status', 16).notNullable();
          t.string('status_text', 2048).notNullable().defaultTo('');
          // Event-triggered runs: the one artifact (JSON) the event named.
          t.text('event');
          t.boolean('planned').notNullable().defaultTo(false);
          epochMs(t, 'started_at').notNullable();
          epochMs(t, 'finished_at');
          t.index(['policy_id', 'id']);
          t.index(['status']);
        });
        if (!(await knex.schema.hasColumn(TABLES.executions, 'event_id'))) {
          await knex.schema.alterTable(TABLES.executions, (t) => {
            t.string('event_id', 36);
            t.unique(['policy_id', 'event_id'], { indexName: 'replication_executions_event' });
          });
        }
        await createMissing(knex, TABLES.tasks, (t) => {
          t.bigIncrements('id').primary();
          ref(t, 'execution_id').references('id').inTable(TABLES.executions).onDelete('CASCADE');
          t.string('operation', 8).notNullable();
          t.string('source_repository', 255).notNullable();
          t.string('source_reference', 255).notNullable();
          t.string('destination_repository', 255).notNullable();
          t.string('destination_reference', 255).notNullable();
          t.string('status', 16).notNullable();
          t.integer('attempts').notNullable().defaultTo(0);
          t.bigInteger('bytes').notNullable().defaultTo(0);
          t.string('digest', 255);
          t.string('error', 2048);
          epochMs(t, 'started_at');
          epochMs(t, 'finished_at');
          t.unique(['execution_id', 'operation', 'source_repository', 'source_reference'], { indexName: 'replication_tasks_artifact' });
          t.index(['execution_id', 'status']);
        });
        await createMissing(knex, TABLES.taskLogs, (t) => {
          t.bigIncrements('id').primary();
          ref(t, 'task_id').references('id').inTable(TABLES.tasks).onDelete('CASCADE');
          epochMs(t, 'at').notNullable();
          t.string('message', 2048).notNullable();
          t.index(['task_id', 'id']);
        });
      },
      async down(knex: Knex): Promise<void> {
        for (const table of [TABLES.taskLogs, TABLES.tasks, TABLES.executions, TABLES.policies, TABLES.endpoints]) await knex.schema.dropTableIfExists(table);
      },
    },
    {
      // Who created a policy: the owner of the project a pull creates for its repositories.
      name: '002_policy_creator',
      async up(knex: Knex): Promise<void> {
        await knex.schema.alterTable(TABLES.policies, (t) => {
          t.string('created_by', 255);
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex.schema.alterTable(TABLES.policies, (t) => {
          t.dropColumn('created_by');
        });
      },
    },
  ];
}
