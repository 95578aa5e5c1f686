import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The plugin's tables (bookkeeping in `wharf_extension_tag-immutability_migrations`). Times are
 * BIGINT epoch milliseconds, as in the kernel's tables. Append new migrations; never edit a
 * shipped one.
 */
export const TABLES = Object.freeze({
  rules: 'tag_immutability_rules',
  versions: 'tag_immutability_versions',
});

export function tagImmutabilityMigrations(dialect: DatabaseDialect): PluginMigration[] {
  const binary = (t: Knex.CreateTableBuilder) => {
    if (dialect !== 'mysql') return;
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
  };
  return [
    {
      name: '001_rules_versions',
      async up(knex: Knex): Promise<void> {
        await knex.schema.createTable(TABLES.rules, (t) => {
          binary(t);
          t.bigIncrements('id').primary();
          t.string('project', 255).notNullable();
          // Lower first; ties in id order. Only the order of the rules listed and named in refusals.
          t.integer('priority').notNullable();
          t.boolean('enabled').notNullable();
          // JSON arrays of selectors (@wharf/sdk RepositorySelector / TagSelector), checked on write.
          t.text('repositories').notNullable();
          t.text('tags').notNullable();
          t.string('creator', 255).notNullable();
          t.bigInteger('created_at').notNullable();
          t.bigInteger('updated_at').notNullable();
          t.index(['project'], 'tag_immutability_rules_project');
        });
        // One row per project that ever had a rule: a token changed by every write of its rules,
        // which each node compares with its cache's (one primary-key read).
        await knex.schema.createTable(TABLES.versions, (t) => {
          binary(t);
          t.string('project', 255).primary();
          t.string('version', 36).notNullable();
        });
      },
    },
  ];
}
