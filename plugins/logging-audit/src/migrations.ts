import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The plugin's tables, run by the kernel (bookkeeping in `wharf_logging_audit_migrations`).
 * Append new migrations; never edit a shipped one. Times are BIGINT epoch milliseconds, as in the
 * kernel's tables. Names compare byte-wise (collation C on PostgreSQL, utf8mb4_bin on MySQL), so
 * `project=Lib` never matches `lib` and comparisons stay cheap.
 *
 * Each index serves one query shape and is ordered like the answer (newest first, ties by id),
 * so a page is an index range read backwards, whatever the table's size:
 * - `(occurred_at, id)`: everything in a time range (system administrators), and the purge;
 * - `(project, occurred_at, id)`: a project's log (its administrators);
 * - `(actor, occurred_at, id)`: what someone did;
 * - `(operation, occurred_at, id)`: one operation (all pushes), and purging one operation early.
 */

export const TABLES = Object.freeze({ entries: 'audit_log_entries', purges: 'audit_log_purges' });

export function auditMigrations(dialect: DatabaseDialect): PluginMigration[] {
  const binary = (t: Knex.CreateTableBuilder) => {
    if (dialect !== 'mysql') return;
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
  };
  const text = (t: Knex.CreateTableBuilder, column: string, length: number) =>
    dialect === 'postgres' ? t.specificType(column, `varchar(${length}) collate "C"`) : t.string(column, length);

  return [
    {
      name: '001_audit_log',
      async up(knex: Knex): Promise<void> {
        await knex.schema.createTable(TABLES.entries, (t) => {
          binary(t);
          t.bigIncrements('id').primary();
          t.string('event_id', 36).notNullable();
          t.smallint('part').notNullable();
          t.bigInteger('occurred_at').notNullable();
          text(t, 'actor', 255).nullable();
          t.string('actor_kind', 16).nullable();
          t.string('actor_provider', 64).nullable();
          t.string('client_address', 64).nullable();
          text(t, 'operation', 16).notNullable();
          text(t, 'resource_type', 32).notNullable();
          text(t, 'resource', 1024).notNullable();
          text(t, 'project', 255).nullable();
          t.string('result', 8).notNullable();
          t.string('request_id', 64).nullable();
          t.integer('count').notNullable().defaultTo(1);
          t.text('detail').nullable();
          // A redelivered event (at least once) inserts nothing twice.
          t.unique(['event_id', 'part'], { indexName: 'audit_log_entries_event' });
          t.index(['occurred_at', 'id'], 'audit_log_entries_time');
          t.index(['project', 'occurred_at', 'id'], 'audit_log_entries_project');
          t.index(['actor', 'occurred_at', 'id'], 'audit_log_entries_actor');
          t.index(['operation', 'occurred_at', 'id'], 'audit_log_entries_operation');
        });
        await knex.schema.createTable(TABLES.purges, (t) => {
          binary(t);
          t.bigIncrements('id').primary();
          t.string('status', 16).notNullable();
          t.boolean('dry_run').notNullable();
          t.string('trigger', 16).notNullable();
          t.string('requested_by', 255).nullable();
          t.bigInteger('requested_at').notNullable();
          t.bigInteger('started_at').nullable();
          t.bigInteger('finished_at').nullable();
          t.bigInteger('deleted').notNullable().defaultTo(0);
          t.text('rules').nullable();
          t.string('error', 1024).nullable();
          t.index(['requested_at'], 'audit_log_purges_requested');
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex.schema.dropTable(TABLES.purges);
        await knex.schema.dropTable(TABLES.entries);
      },
    },
  ];
}
