import type { Knex } from 'knex';
import { dialectOf } from '../connection.js';

/**
 * The registry index: repositories, committed blobs and their links, manifests with every
 * reference they make, tags and upload sessions. References are rows (not parsed out of
 * payloads on demand) and indexed by the referenced digest, so online GC can ask "who uses X?"
 * and quotas can sum sizes. Times are BIGINT epoch milliseconds (see `sql.ts`).
 */

type Table = Knex.CreateTableBuilder;

export async function up(knex: Knex): Promise<void> {
  const dialect = dialectOf(knex);
  const base = (t: Table): void => {
    // utf8mb4_bin: tags `A` and `a` are distinct and ordering is byte-wise, as on the others.
    if (dialect === 'mysql') {
      t.engine('InnoDB');
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
    }
  };
  // Names sort byte-wise: "C" collation on PostgreSQL (so the unique index serves the catalog).
  const name = (t: Table, column: string, length: number): Knex.ColumnBuilder =>
    dialect === 'postgres' ? t.specificType(column, `varchar(${length}) collate "C"`) : t.string(column, length);
  const digest = (t: Table, column: string): Knex.ColumnBuilder => t.string(column, 255);
  const epochMs = (t: Table, column: string): Knex.ColumnBuilder => t.bigInteger(column);
  const ref = (t: Table, column: string): Knex.ColumnBuilder => t.bigInteger(column).unsigned().notNullable();

  await knex.schema.createTable('repositories', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    name(t, 'name', 255).notNullable().unique();
    epochMs(t, 'created_at').notNullable();
  });

  // The global record of committed blobs; rows outlive their links until GC removes them.
  await knex.schema.createTable('blobs', (t) => {
    base(t);
    digest(t, 'digest').primary();
    t.bigInteger('size').notNullable();
    epochMs(t, 'created_at').notNullable();
  });

  await knex.schema.createTable('repository_blobs', (t) => {
    base(t);
    ref(t, 'repository_id').references('id').inTable('repositories').onDelete('CASCADE');
    // No cascade from blobs: a blob row cannot vanish while a repository links it.
    digest(t, 'digest').notNullable().references('digest').inTable('blobs');
    epochMs(t, 'created_at').notNullable();
    t.primary(['repository_id', 'digest']);
    t.index(['digest']);
  });

  await knex.schema.createTable('manifests', (t) => {
    base(t);
    t.bigIncrements('id').primary();
    ref(t, 'repository_id').references('id').inTable('repositories').onDelete('CASCADE');
    digest(t, 'digest').notNullable();
    t.string('media_type', 255).notNullable();
    t.string('artifact_type', 255).nullable();
    t.bigInteger('size').notNullable();
    // LONGBLOB on MySQL: BLOB stops at 64 KiB and manifests may be 4 MiB.
    if (dialect === 'mysql') t.specificType('payload', 'longblob').notNullable();
    else t.binary('payload').notNullable();
    digest(t, 'subject_digest').nullable();
    t.text('annotations', 'longtext').nullable();
    epochMs(t, 'created_at').notNullable();
    t.unique(['repository_id', 'digest']);
    t.index(['repository_id', 'subject_digest']);
    t.index(['digest']);
  });

  await knex.schema.createTable('manifest_blob_refs', (t) => {
    base(t);
    ref(t, 'manifest_id').references('id').inTable('manifests').onDelete('CASCADE');
    digest(t, 'digest').notNullable();
    t.primary(['manifest_id', 'digest']);
    t.index(['digest']);
  });

  await knex.schema.createTable('manifest_manifest_refs', (t) => {
    base(t);
    ref(t, 'manifest_id').references('id').inTable('manifests').onDelete('CASCADE');
    digest(t, 'child_digest').notNullable();
    t.primary(['manifest_id', 'child_digest']);
    t.index(['child_digest']);
  });

  await knex.schema.createTable('tags', (t) => {
    base(t);
    ref(t, 'repository_id').references('id').inTable('repositories').onDelete('CASCADE');
    name(t, 'name', 128).notNullable();
    ref(t, 'manifest_id').references('id').inTable('manifests').onDelete('CASCADE');
    epochMs(t, 'updated_at').notNullable();
    t.primary(['repository_id', 'name']);
    t.index(['manifest_id']);
  });

  // No foreign key to repositories: an upload may start before its repository exists.
  await knex.schema.createTable('uploads', (t) => {
    base(t);
    t.string('id', 128).primary();
    name(t, 'repository', 255).notNullable();
    t.text('state', 'longtext').notNullable();
    // The state's size in its own column, for compare-and-set updates.
    t.bigInteger('size').notNullable();
    t.string('lease_holder', 255).nullable();
    epochMs(t, 'lease_until').nullable();
    epochMs(t, 'created_at').notNullable();
    epochMs(t, 'updated_at').notNullable();
    t.index(['updated_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'uploads',
    'tags',
    'manifest_manifest_refs',
    'manifest_blob_refs',
    'manifests',
    'repository_blobs',
    'blobs',
    'repositories',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
