import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The plugin's tables, declared with `ctx.migrations` and run by the kernel (bookkeeping in
 * `wharf_rbac_projects_migrations`, after the plugin's kind and id). Append new migrations; never edit a shipped one. Times are BIGINT epoch milliseconds, as in the
 * kernel's tables. Names compare byte-wise on every database (collation C / utf8mb4_bin).
 */

export const TABLES = Object.freeze({
  projects: 'rbac_projects',
  members: 'rbac_members',
  groups: 'rbac_groups',
  robots: 'rbac_robots',
});

export function rbacMigrations(dialect: DatabaseDialect): PluginMigration[] {
  const binary = (t: Knex.CreateTableBuilder) => {
    if (dialect !== 'mysql') return;
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
  };
  const name = (t: Knex.CreateTableBuilder, column: string, length: number) =>
    dialect === 'postgres' ? t.specificType(column, `varchar(${length}) collate "C"`) : t.string(column, length);

  return [
    {
      name: '001_projects_members_groups_robots',
      async up(knex: Knex): Promise<void> {
        await knex.schema.createTable(TABLES.projects, (t) => {
          binary(t);
          t.bigIncrements('id').primary();
          name(t, 'name', 255).notNullable().unique();
          t.boolean('public').notNullable().defaultTo(false);
          t.string('owner', 255).nullable();
          t.bigInteger('created_at').notNullable();
          t.bigInteger('updated_at').notNullable();
        });
        await knex.schema.createTable(TABLES.groups, (t) => {
          binary(t);
          t.bigIncrements('id').primary();
          name(t, 'name', 255).notNullable().unique();
          t.string('type', 16).notNullable();
          t.string('external_id', 512).nullable();
          t.bigInteger('created_at').notNullable();
        });
        await knex.schema.createTable(TABLES.members, (t) => {
          binary(t);
          t.bigIncrements('id').primary();
          t.bigInteger('project_id').unsigned().notNullable().references('id').inTable(TABLES.projects).onDelete('CASCADE');
          t.string('kind', 8).notNullable();
          name(t, 'name', 255).notNullable();
          t.integer('role').notNullable();
          t.bigInteger('created_at').notNullable();
          t.unique(['project_id', 'kind', 'name'], { indexName: 'rbac_members_unique' });
          t.index(['kind', 'name'], 'rbac_members_principal_index');
        });
        await knex.schema.createTable(TABLES.robots, (t) => {
          binary(t);
          t.bigIncrements('id').primary();
          name(t, 'name', 320).notNullable().unique();
          t.string('level', 8).notNullable();
          t.bigInteger('project_id').unsigned().nullable().references('id').inTable(TABLES.projects).onDelete('CASCADE');
          t.string('description', 1024).notNullable().defaultTo('');
          t.string('secret_hash', 255).notNullable();
          t.text('permissions').notNullable();
          t.bigInteger('expires_at').nullable();
          t.boolean('disabled').notNullable().defaultTo(false);
          t.string('creator', 255).notNullable();
          t.bigInteger('created_at').notNullable();
          t.bigInteger('updated_at').notNullable();
          t.index(['project_id'], 'rbac_robots_project_index');
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex.schema.dropTable(TABLES.robots);
        await knex.schema.dropTable(TABLES.members);
        await knex.schema.dropTable(TABLES.groups);
        await knex.schema.dropTable(TABLES.projects);
      },
    },
  ];
}
