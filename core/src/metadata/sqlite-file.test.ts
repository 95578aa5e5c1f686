import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createKnex } from './index.js';

/** The SQLite file holds password hashes, so Wharf creates it readable by its owner only. */
describe('SQLite database file', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function openAndWrite(filename: string): Promise<void> {
    const knex = createKnex({ client: 'sqlite', filename });
    try {
      await knex.schema.createTableIfNotExists('t', (t) => t.integer('id'));
      await knex('t').insert({ id: 1 });
    } finally {
      await knex.destroy();
    }
  }

  it('is created 0600, and so is its write-ahead log', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-sqlite-mode-'));
    dirs.push(dir);
    const file = path.join(dir, 'nested', 'wharf.db');
    const knex = createKnex({ client: 'sqlite', filename: file });
    try {
      await knex.schema.createTable('t', (t) => t.integer('id'));
      await knex('t').insert({ id: 1 });
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(`${file}-wal`)).mode & 0o777, 0o600);
    } finally {
      await knex.destroy();
    }
  });

  it('keeps the mode of an existing file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-sqlite-mode-'));
    dirs.push(dir);
    const file = path.join(dir, 'wharf.db');
    await openAndWrite(file);
    await chmod(file, 0o640);
    await openAndWrite(file);
    assert.equal((await stat(file)).mode & 0o777, 0o640);
  });
});
