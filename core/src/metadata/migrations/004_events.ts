import type { Knex } from 'knex';
import { dialectOf } from '../connection.js';
import { epochMs, tableOptions } from './table-options.js';

/**
 * Durable events (the transactional outbox): `events` holds each event once; `event_deliveries`
 * holds one row per event and consumer subscribed to its type, written in the same transaction,
 * so a consumer's backlog, retries and dead events are rows that any node can claim.
 * (This migration also gave `replication_executions` its `event_id` column when the replication
 * tables were the kernel's; the replication plugin's migration does it now, where it is missing.)
 */

export async function up(knex: Knex): Promise<void> {
  const base = tableOptions(dialectOf(knex));

  await knex.schema.createTable('events', (t) => {
    base(t);
    t.bigIncrements('seq').primary();
    t.string('id', 36).notNullable().unique();
    t.string('type', 128).notNullable();
    t.string('partition_key', 255).notNullable();
    // JSON: { data, actor?, request? }
    t.text('body').notNullable();
    epochMs(t, 'occurred_at').notNullable();
    t.index(['occurred_at']);
  });

  await knex.schema.createTable('event_deliveries', (t) => {
    base(t);
    t.string('consumer', 100).notNullable();
    t.bigInteger('seq').unsigned().notNullable();
    t.string('partition_key', 255).notNullable();
    // pending | running | delivered | dead
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    epochMs(t, 'available_at').notNullable();
    t.string('holder', 100);
    epochMs(t, 'lease_until');
    t.string('last_error', 1024);
    epochMs(t, 'created_at').notNullable();
    epochMs(t, 'finished_at');
    t.primary(['consumer', 'seq']);
    // Claims scan a consumer's open rows; the order check looks up earlier *open* rows of a
    // partition, so status sits before seq: delivered rows of a hot partition are never walked.
    t.index(['consumer', 'status', 'seq'], 'event_deliveries_open');
    t.index(['consumer', 'partition_key', 'status', 'seq'], 'event_deliveries_partition');
    t.index(['status', 'finished_at'], 'event_deliveries_finished');
    t.index(['seq'], 'event_deliveries_seq');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('event_deliveries');
  await knex.schema.dropTableIfExists('events');
}
