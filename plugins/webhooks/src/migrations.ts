import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The plugin's tables (bookkeeping in `wharf_extension_webhooks_migrations`). Times are BIGINT
 * epoch milliseconds, as in the kernel's tables. Append new migrations; never edit a shipped one.
 */
export const TABLES = Object.freeze({
  policies: 'webhooks_policies',
  deliveries: 'webhooks_deliveries',
  fanouts: 'webhooks_fanouts',
});

export function webhooksMigrations(dialect: DatabaseDialect): PluginMigration[] {
  const binary = (t: Knex.CreateTableBuilder) => {
    if (dialect !== 'mysql') return;
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
  };
  return [
    {
      name: '001_policies_deliveries',
      async up(knex: Knex): Promise<void> {
        await knex.schema.createTable(TABLES.policies, (t) => {
          binary(t);
          t.bigIncrements('id').primary();
          t.string('project', 255).notNullable();
          t.string('name', 255).notNullable();
          t.text('description').notNullable();
          t.boolean('enabled').notNullable();
          // JSON arrays: Harbor event type names, and targets (auth headers sealed).
          t.text('event_types').notNullable();
          t.text('targets').notNullable();
          // The signing secret, sealed (AES-256-GCM); never the plain secret.
          t.text('secret_sealed').notNullable();
          t.string('creator', 255).notNullable();
          t.bigInteger('created_at').notNullable();
          t.bigInteger('updated_at').notNullable();
          t.unique(['project', 'name'], { indexName: 'webhooks_policies_name_unique' });
        });
        await knex.schema.createTable(TABLES.deliveries, (t) => {
          binary(t);
          // The delivery id, sent as Webhook-Id: the same on every attempt.
          t.string('id', 36).primary();
          t.bigInteger('policy_id').unsigned().notNullable().references('id').inTable(TABLES.policies).onDelete('CASCADE');
          t.string('event_id', 64).notNullable();
          t.integer('target_index').notNullable();
          t.string('event_type', 64).notNullable();
          t.string('target_type', 64).notNullable();
          t.string('address', 2048).notNullable();
          // pending | running | succeeded | failed
          t.string('status', 16).notNullable();
          t.integer('attempts').notNullable();
          t.bigInteger('next_attempt_at').notNullable();
          t.bigInteger('lease_until').nullable();
          t.string('claimed_by', 64).nullable();
          t.integer('response_code').nullable();
          t.integer('duration_ms').nullable();
          t.text('last_error').nullable();
          // The target as it was at fan-out (auth header sealed) and the rendered event.
          t.text('target').notNullable();
          t.text('event').notNullable();
          t.bigInteger('created_at').notNullable();
          t.bigInteger('updated_at').notNullable();
          // A durable event delivered again after a crash fans out into the same rows.
          t.unique(['event_id', 'policy_id', 'target_index'], { indexName: 'webhooks_deliveries_event_unique' });
          t.index(['status', 'next_attempt_at'], 'webhooks_deliveries_due_index');
          t.index(['policy_id', 'created_at'], 'webhooks_deliveries_policy_index');
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex.schema.dropTableIfExists(TABLES.deliveries);
        await knex.schema.dropTableIfExists(TABLES.policies);
      },
    },
    {
      // Events waiting to become delivery rows (see fanout-queue.ts): one row per event with the
      // policies it goes to, instead of one row per (policy, target) at push time.
      name: '002_fanouts',
      async up(knex: Knex): Promise<void> {
        await knex.schema.createTable(TABLES.fanouts, (t) => {
          binary(t);
          t.bigIncrements('seq').primary();
          // A durable event delivered again after a crash is queued once.
          t.string('event_id', 64).notNullable().unique({ indexName: 'webhooks_fanouts_event_unique' });
          // The stored event without its per-policy fields, and the policies and targets it goes to.
          // MEDIUMTEXT on MySQL (TEXT holds 64 KiB there): an event can go to many policies, each
          // with its targets' CA certificates.
          t.text('event', 'mediumtext').notNullable();
          t.text('policies', 'mediumtext').notNullable();
          t.bigInteger('created_at').notNullable();
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex.schema.dropTableIfExists(TABLES.fanouts);
      },
    },
    {
      // A queued event that cannot become deliveries (fanout-queue.ts): tried again later and
      // later, then set aside, instead of on every look with an error logged each time.
      name: '003_fanout_attempts',
      async up(knex: Knex): Promise<void> {
        await knex.schema.alterTable(TABLES.fanouts, (t) => {
          t.integer('attempts').notNullable().defaultTo(0);
          t.bigInteger('next_try_at').notNullable().defaultTo(0);
          t.string('last_error', 1000).nullable();
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex.schema.alterTable(TABLES.fanouts, (t) => {
          t.dropColumn('attempts');
          t.dropColumn('next_try_at');
          t.dropColumn('last_error');
        });
      },
    },
  ];
}
