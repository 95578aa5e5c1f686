import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forEachDatabase, runCommand } from '@wharf/sdk-testing';
import { tempDir, WHARF_BIN } from './test-support.js';

/**
 * Only `wharf serve` and `wharf migrate` create a registry. An admin command run in the wrong
 * directory, with `--config /dev/null`, or on an empty server database refuses, naming the
 * database it looked for, and creates nothing (no database, administrator or password file).
 */

let dir: string;
let cleanup: () => Promise<void>;

const wharf = (args: string[], cwd = dir) => runCommand(process.execPath, [WHARF_BIN, ...args], { cwd });

describe('admin commands need an existing registry', () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('wharf-existing-registry-'));
  });
  after(() => cleanup());

  it('in a directory without a registry (or with --config /dev/null) they refuse and create nothing', async () => {
    const file = path.join(dir, 'data', 'wharf.db');
    for (const args of [['user', 'list'], ['project', 'list', '--config', '/dev/null'], ['robot', 'list'], ['replication', 'executions']]) {
      const run = await wharf(args);
      assert.equal(run.code, 1, args.join(' '));
      assert.equal(run.stdout, '', args.join(' '));
      assert.equal(
        run.stderr.trimEnd(),
        `error REG_ERR_DATABASE: no registry in the SQLite file ${file}: the file does not exist. This command works on an existing registry: ` +
          'run it with the config of that registry (--config or WHARF_CONFIG) in its directory, or create one with `wharf migrate` or `wharf serve`',
        args.join(' '),
      );
    }
    assert.deepEqual(await readdir(dir), [], 'nothing was created');
  });

  it('once `wharf migrate` created it, they work on it', async () => {
    const migrated = await wharf(['migrate', '--data-dir', path.join(dir, 'made')]);
    assert.equal(migrated.code, 0, migrated.stderr);
    const list = await wharf(['project', 'list', '--json', '--data-dir', path.join(dir, 'made')]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((p) => p.name), ['library']);
  });

  forEachDatabase((name, create) => {
    it('an empty database is refused, named without its password', async () => {
      const db = await create();
      // A server database exists but is empty; a SQLite file exists but holds no registry.
      if (db.config.client === 'sqlite') await writeFile(db.config.filename, '');
      const config = path.join(dir, `${name}.yaml`);
      await writeFile(config, `dataDir: ${path.join(dir, `${name}-data`)}\ndatabase: ${JSON.stringify(db.config)}\n`);
      const run = await wharf(['user', 'list', '--config', config]);
      assert.equal(run.code, 1);
      const what =
        db.config.client === 'sqlite'
          ? `SQLite file ${db.config.filename}`
          : `${name === 'postgres' ? 'PostgreSQL' : 'MySQL'} database "${new URL(db.config.connection).pathname.slice(1)}" on ${new URL(db.config.connection).host}`;
      assert.equal(run.stderr.split('\n')[0], `error REG_ERR_DATABASE: no registry in the ${what}: it was never migrated. This command works on an existing registry: run it with the config of that registry (--config or WHARF_CONFIG) in its directory, or create one with \`wharf migrate\` or \`wharf serve\``);
      assert.equal(existsSync(path.join(dir, `${name}-data`)), false, 'no data directory, keys or password file');
    });
  });
});
