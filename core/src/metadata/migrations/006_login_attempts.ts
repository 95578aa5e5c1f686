import type { Knex } from 'knex';
import { dialectOf } from '../connection.js';
import { epochMs, tableOptions } from './table-options.js';

/**
 * The failed-login slowdown and the concurrent-login limits, shared by every node
 * (core/src/auth/login-attempts.ts): decaying failure scores and in-flight login slots, both
 * keyed by a SHA-256 of the user name or client address. And who opened each upload, so open
 * uploads can be bounded per user (and per repository, hence its index).
 */
export async function up(knex: Knex): Promise<void> {
  const base = tableOptions(dialectOf(knex));
  await knex.schema.createTable('login_failure_scores', (t) => {
    base(t);
    t.string('key', 64).primary();
    t.double('score').notNullable();
    epochMs(t, 'at').notNullable();
    epochMs(t, 'forget_at').notNullable();
    t.index(['forget_at'], 'login_failure_scores_forget');
  });
  await knex.schema.createTable('login_slots', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    t.string('key', 64).notNullable();
    epochMs(t, 'expires_at').notNullable();
    t.index(['key', 'expires_at'], 'login_slots_key');
  });
  await knex.schema.alterTable('uploads', (t) => {
    t.string('owner', 255).nullable();
    t.index(['owner'], 'uploads_owner');
    t.index(['repository'], 'uploads_repository');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uploads', (t) => {
    t.dropIndex(['repository'], 'uploads_repository');
    t.dropIndex(['owner'], 'uploads_owner');
    t.dropColumn('owner');
  });
  await knex.schema.dropTableIfExists('login_slots');
  await knex.schema.dropTableIfExists('login_failure_scores');
}
