import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The plugin's table (bookkeeping in `wharf_extension_proxy_cache_migrations`). Times are BIGINT
 * epoch milliseconds, as in the kernel's tables. Append new migrations; never edit a shipped one.
 */
export const TABLES = Object.freeze({ projects: 'proxy_cache_projects' });

export function proxyCacheMigrations(dialect: DatabaseDialect): PluginMigration[] {
  return [
    {
      name: '001_proxy_cache',
      async up(knex: Knex): Promise<void> {
        // One row per proxy-cache project: its upstreams in order, as JSON
        // `[{ "endpointId": 3, "pathPrefix": "library/" }]` (endpoints by id survive a rename).
        await knex.schema.createTable(TABLES.projects, (t) => {
          if (dialect === 'mysql') {
            t.engine('InnoDB');
            t.charset('utf8mb4');
            t.collate('utf8mb4_bin');
          }
          t.string('project', 255).primary();
          t.text('upstreams').notNullable();
          t.bigInteger('created_at').notNullable();
          t.bigInteger('updated_at').notNullable();
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex.schema.dropTableIfExists(TABLES.projects);
      },
    },
  ];
}
