import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { coreServices, RegistryError, type RequestInfo } from '@wharf/sdk';
import { startTestPlugin } from '@wharf/sdk-testing';
import { authDbPlugin, authDbUsersRef } from './index.js';
import { ADMIN_PASSWORD_FILE } from './bootstrap.js';
import { USERS_TABLE } from './migrations.js';
import { withAdminPassword } from './test-support.js';

/** The plugin on mocked kernel services (a real SQLite file, captured logs), no kernel booted. */

const info: RequestInfo = { requestId: 'unit', ip: '192.0.2.1', method: 'GET', path: '/v2/', userAgent: undefined };

describe('auth-db without a kernel (startTestPlugin)', () => {
  it('migrates its table and bootstraps the administrator at ready, with the password only in the file', async () => {
    const plugin = await withAdminPassword(undefined, () => startTestPlugin(authDbPlugin));
    try {
      const knex = plugin.get(coreServices.database).knex;
      assert.ok(await knex.schema.hasTable(USERS_TABLE));
      assert.ok(await knex.schema.hasTable('wharf_auth_db_migrations'));
      const password = (await readFile(path.join(plugin.settings.dataDir, ADMIN_PASSWORD_FILE), 'utf8')).trim();
      assert.ok(password.length >= 8);
      const admin = await plugin.hooks.auth.authenticate.promise({ kind: 'basic', username: 'admin', password }, info);
      assert.deepEqual([admin?.subject, admin?.admin, admin?.provider], ['admin', true, 'db']);
      assert.ok(plugin.logs.records().some((r) => r['plugin'] === 'db'), 'the plugin logged through its child logger');
      assert.ok(!plugin.logs.text().includes(password), 'the generated password is never logged');
    } finally {
      await plugin.close();
    }
  });

  it('adds the users API operations, and answers logins from its table', async () => {
    const plugin = await withAdminPassword('Admin-Passw0rd-9', () => startTestPlugin(authDbPlugin, { config: { passwordPolicy: { minLength: 12 } } }));
    try {
      assert.ok(['listUsers', 'createUser', 'getUser'].every((id) => plugin.operations.includes(id)), plugin.operations.join(', '));
      const users = plugin.get(authDbUsersRef);
      await assert.rejects(users.create('bob', 'Short-Pw1'), /12/);
      await users.create('bob', 'Long-Enough-Pw1');
      assert.equal((await plugin.hooks.auth.authenticate.promise({ kind: 'basic', username: 'bob', password: 'Long-Enough-Pw1' }, info))?.subject, 'bob');
      await assert.rejects(plugin.hooks.auth.authenticate.promise({ kind: 'basic', username: 'bob', password: 'Long-Enough-Pw2' }, info), RegistryError);
      assert.equal(await plugin.hooks.auth.authenticate.promise({ kind: 'basic', username: 'nobody', password: 'x' }, info), undefined);
    } finally {
      await plugin.close();
    }
  });

  it('refuses a config its schema refuses, before register runs', async () => {
    await assert.rejects(startTestPlugin(authDbPlugin, { config: { passwordPolicy: { minLength: 0 } } }), /plugin "db": config \/passwordPolicy\/minLength/);
  });
});
