import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/** The plugin's one table. Times are BIGINT epoch milliseconds, as in the kernel's tables. */
export const SESSIONS_TABLE = 'ui_sessions';

export function uiMigrations(dialect: DatabaseDialect): PluginMigration[] {
  return [
    {
      name: '001_sessions',
      async up(knex: Knex): Promise<void> {
        await knex.schema.createTable(SESSIONS_TABLE, (t) => {
          if (dialect === 'mysql') {
            t.engine('InnoDB');
            t.charset('utf8mb4');
            t.collate('utf8mb4_bin');
          }
          // SHA-256 of the cookie value: a leaked table opens no session.
          t.string('id_hash', 64).primary();
          t.string('subject', 255).notNullable();
          // The principal as the login produced it (groups and claims, never a secret).
          t.text('principal').notNullable();
          t.bigInteger('created_at').notNullable();
          t.bigInteger('last_seen_at').notNullable();
          t.bigInteger('expires_at').notNullable();
          t.index(['subject'], 'ui_sessions_subject');
          t.index(['expires_at'], 'ui_sessions_expires');
        });
      },
    },
  ];
}
