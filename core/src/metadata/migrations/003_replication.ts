import type { Knex } from 'knex';

/**
 * Once the replication tables (endpoints, policies, executions, tasks, task logs). They belong
 * to the replication plugin now (`plugins/replication/src/migrations.ts`, which creates them
 * only where they do not exist: databases migrated by an older kernel keep their rows). This
 * migration stays in the list as a no-op because knex refuses a migration list that lost a name
 * it already ran.
 */

export async function up(_knex: Knex): Promise<void> {}

export async function down(_knex: Knex): Promise<void> {}
