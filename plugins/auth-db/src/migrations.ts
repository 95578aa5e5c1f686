import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The plugin's tables, declared with `ctx.migrations` and run by the kernel (bookkeeping in
 * `wharf_auth_db_migrations`, after the plugin's kind and id). Append new migrations; never edit
 * a shipped one.
 * Times are BIGINT epoch milliseconds, as in the kernel's tables.
 */

export const USERS_TABLE = 'users';
/** `users.provider` of the plugin's own (password) users: the plugin id. */
export const LOCAL_PROVIDER = 'db';

export function authDbMigrations(dialect: DatabaseDialect): PluginMigration[] {
  return [
    {
      name: '001_users',
      async up(knex: Knex): Promise<void> {
        await knex.schema.createTable(USERS_TABLE, (t) => {
          if (dialect === 'mysql') {
            // Byte-wise: the server's default collation may be case-insensitive.
            t.engine('InnoDB');
            t.charset('utf8mb4');
            t.collate('utf8mb4_bin');
          }
          t.bigIncrements('id').primary();
          const username =
            dialect === 'postgres' ? t.specificType('username', 'varchar(64) collate "C"') : t.string('username', 64);
          username.notNullable().unique();
          t.string('password_hash', 255).notNullable();
          t.boolean('admin').notNullable().defaultTo(false);
          t.boolean('disabled').notNullable().defaultTo(false);
          t.bigInteger('created_at').notNullable();
          t.bigInteger('updated_at').notNullable();
          t.bigInteger('password_changed_at').notNullable();
          t.index(['admin'], 'users_admin_index');
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex.schema.dropTable(USERS_TABLE);
      },
    },
    {
      // Users of other providers (LDAP...) are recorded on first login, without a password.
      name: '002_external_users',
      async up(knex: Knex): Promise<void> {
        await knex.schema.alterTable(USERS_TABLE, (t) => {
          t.string('provider', 64).notNullable().defaultTo(LOCAL_PROVIDER);
        });
        await knex.schema.alterTable(USERS_TABLE, (t) => {
          t.string('password_hash', 255).nullable().alter();
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex(USERS_TABLE).whereNot({ provider: LOCAL_PROVIDER }).delete();
        await knex.schema.alterTable(USERS_TABLE, (t) => {
          t.string('password_hash', 255).notNullable().alter();
        });
        await knex.schema.alterTable(USERS_TABLE, (t) => {
          t.dropColumn('provider');
        });
      },
    },
  ];
}
