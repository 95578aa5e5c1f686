import type { Knex } from 'knex';
import { dialectOf } from '../connection.js';
import { epochMs, tableOptions } from './table-options.js';

/**
 * Replication: registry endpoints (credentials encrypted), policies, and the history of runs
 * (executions, one task per artifact, task log lines). Tasks are unique per execution and
 * artifact, so planning an execution twice (a crash mid-plan) never copies anything twice.
 */

type Table = Knex.CreateTableBuilder;

export async function up(knex: Knex): Promise<void> {
  const dialect = dialectOf(knex);
  const base = tableOptions(dialect);
  const ref = (t: Table, column: string): Knex.ColumnBuilder => t.bigInteger(column).unsigned().notNullable();

  await knex.schema.createTable('replication_endpoints', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    t.string('name', 128).notNullable().unique();
    t.string('description', 1024).notNullable().defaultTo('');
    t.string('type', 64).notNullable();
    t.string('url', 2048).notNullable();
    t.string('username', 255);
    // AES-256-GCM, see secrets/secret-box.ts; never the plain secret.
    t.text('secret');
    t.boolean('insecure').notNullable().defaultTo(false);
    t.text('ca_certificate');
    epochMs(t, 'created_at').notNullable();
    epochMs(t, 'updated_at').notNullable();
  });

  await knex.schema.createTable('replication_policies', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    t.string('name', 128).notNullable().unique();
    t.string('description', 1024).notNullable().defaultTo('');
    t.string('mode', 8).notNullable();
    ref(t, 'endpoint_id').references('id').inTable('replication_endpoints');
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

  await knex.schema.createTable('replication_executions', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    ref(t, 'policy_id').references('id').inTable('replication_policies').onDelete('CASCADE');
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

  await knex.schema.createTable('replication_tasks', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    ref(t, 'execution_id').references('id').inTable('replication_executions').onDelete('CASCADE');
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

  await knex.schema.createTable('replication_task_logs', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    ref(t, 'task_id').references('id').inTable('replication_tasks').onDelete('CASCADE');
    epochMs(t, 'at').notNullable();
    t.string('message', 2048).notNullable();
    t.index(['task_id', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['replication_task_logs', 'replication_tasks', 'replication_executions', 'replication_policies', 'replication_endpoints']) {
    await knex.schema.dropTableIfExists(table);
  }
}
