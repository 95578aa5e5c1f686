import type { DatabaseDialect, Knex, PluginMigration } from '@wharf/sdk';

/**
 * The plugin's tables (bookkeeping in `wharf_extension_quotas_migrations`). Times are BIGINT
 * epoch milliseconds, as in the kernel's tables. Append new migrations; never edit a shipped one.
 */
export const TABLES = Object.freeze({
  projects: 'quotas_projects',
  blobs: 'quotas_blobs',
  artifacts: 'quotas_artifacts',
  meta: 'quotas_meta',
  dirty: 'quotas_dirty',
  pending: 'quotas_repository_pending',
});

export function quotasMigrations(dialect: DatabaseDialect): PluginMigration[] {
  const binary = (t: Knex.CreateTableBuilder) => {
    if (dialect !== 'mysql') return;
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
  };
  return [
    {
      name: '001_quotas',
      async up(knex: Knex): Promise<void> {
        // One row per project: the limits (-1 = unlimited) and the usage, kept equal to the
        // sums of the ledgers below in every transaction that changes them.
        await knex.schema.createTable(TABLES.projects, (t) => {
          binary(t);
          t.string('project', 255).primary();
          t.bigInteger('storage_limit').notNullable();
          t.bigInteger('count_limit').notNullable();
          // Each repository of the project may hold this many bytes (its manifests and linked blobs).
          t.bigInteger('repository_storage_limit').notNullable();
          t.bigInteger('storage_used').notNullable();
          t.bigInteger('count_used').notNullable();
          // Whether a QUOTA_WARNING was recorded since usage last went below the threshold.
          t.boolean('warned').notNullable();
          t.bigInteger('created_at').notNullable();
          t.bigInteger('updated_at').notNullable();
        });
        // The digests a project is charged for, each once (Harbor's project_blob).
        await knex.schema.createTable(TABLES.blobs, (t) => {
          binary(t);
          t.string('project', 255).notNullable();
          t.string('digest', 150).notNullable();
          t.bigInteger('size').notNullable();
          // Last charged or confirmed by a push: a recompute keeps rows younger than the settle window.
          t.bigInteger('seen_at').notNullable();
          t.primary(['project', 'digest']);
        });
        // The artifacts (repository + manifest digest) a project's count is charged for.
        await knex.schema.createTable(TABLES.artifacts, (t) => {
          binary(t);
          t.string('project', 255).notNullable();
          // sha256 of `<repository>@<digest>`: keeps the key short enough for MySQL's index limit.
          t.string('artifact_key', 64).notNullable();
          t.text('repository').notNullable();
          t.string('digest', 150).notNullable();
          t.bigInteger('seen_at').notNullable();
          t.primary(['project', 'artifact_key']);
        });
        // Projects whose usage a delete changed, waiting for a recompute. `version` grows with
        // every mark, so a recompute only clears the mark it started from.
        await knex.schema.createTable(TABLES.dirty, (t) => {
          binary(t);
          t.string('project', 255).primary();
          t.bigInteger('version').notNullable();
          t.bigInteger('marked_at').notNullable();
        });
        await knex.schema.createTable(TABLES.meta, (t) => {
          binary(t);
          t.string('name', 64).primary();
          t.text('value').notNullable();
        });
      },
      async down(knex: Knex): Promise<void> {
        for (const table of [TABLES.dirty, TABLES.meta, TABLES.artifacts, TABLES.blobs, TABLES.projects]) await knex.schema.dropTableIfExists(table);
      },
    },
    {
      name: '002_repository_pending',
      async up(knex: Knex): Promise<void> {
        // Blobs and manifests a push was admitted into a repository with a storage quota for,
        // kept through the settle window (at least a minute; then dropped, finished or not). Written under the project row's lock, so concurrent
        // pushes into one repository see each other's admissions.
        await knex.schema.createTable(TABLES.pending, (t) => {
          binary(t);
          t.string('project', 255).notNullable();
          // sha256 of `<repository>@<digest>`, and of `<repository>`: short keys for MySQL's index limit.
          t.string('pending_key', 64).notNullable();
          t.string('repository_key', 64).notNullable();
          t.string('digest', 150).notNullable();
          t.string('kind', 16).notNullable();
          t.bigInteger('size').notNullable();
          t.bigInteger('charged_at').notNullable();
          // Seen in the repository's size once: later checks need not ask the kernel again.
          t.boolean('held').notNullable().defaultTo(false);
          t.primary(['project', 'pending_key']);
          t.index(['project', 'repository_key'], 'quotas_repository_pending_repository');
        });
      },
      async down(knex: Knex): Promise<void> {
        await knex.schema.dropTableIfExists(TABLES.pending);
      },
    },
  ];
}
