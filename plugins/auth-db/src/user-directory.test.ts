import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { coreServices, type DatabaseService } from '@wharf/sdk';
import { bootRegistry, tempDir, withAdminPassword } from './test-support.js';
import { authDbUsersRef, UserDirectoryError, type UserDirectory, type UserDirectoryErrorCode } from './user-directory.js';

/** The `auth-db.users` service of a booted registry, on each real database. */

const ADMIN_PASSWORD = 'Initial-Admin-1';

function refusedWith(code: UserDirectoryErrorCode, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof UserDirectoryError, String(err));
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  };
}

forEachDatabase((_name, create) => {
  let server: TestRegistry | undefined;
  let users: UserDirectory;
  let database: DatabaseService;
  let cleanup: (() => Promise<void>) | undefined;

  before(async () => {
    const db = await create();
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    server = await withAdminPassword(ADMIN_PASSWORD, () => bootRegistry({ db, dataDir: tmp.dir }));
    users = server.get(authDbUsersRef);
    database = server.get(coreServices.database);
  });
  after(async () => {
    await server?.close();
    await cleanup?.();
  });

  it('holds the bootstrap administrator', async () => {
    const admin = await users.get('admin');
    assert.equal(admin?.admin, true);
    assert.equal(admin?.disabled, false);
    assert.equal(await users.hasAdmin(), true);
    assert.deepEqual(await users.verify('admin', ADMIN_PASSWORD), { ok: true, user: admin });
  });

  it('creates users with lowercased names and looks them up exactly', async () => {
    const t0 = Date.now();
    const alice = await users.create('Alice.Smith', 'Alice-Pass-1');
    assert.equal(alice.username, 'alice.smith');
    assert.equal(alice.admin, false);
    assert.equal(alice.disabled, false);
    assert.ok(alice.id > 0);
    assert.ok(alice.createdAt.getTime() >= t0 - 1000 && alice.createdAt.getTime() <= Date.now());
    assert.deepEqual(alice.passwordChangedAt, alice.createdAt);
    assert.deepEqual(await users.get('alice.smith'), alice);
    assert.equal(await users.get('Alice.Smith'), undefined);
    assert.equal((await users.create('ops_1', 'Ops-Pass-12', { admin: true })).admin, true);
  });

  it('refuses duplicates, bad names and weak passwords, creating nothing', async () => {
    await users.create('bob', 'Bob-Pass-1');
    await assert.rejects(users.create('bob', 'Other-Pass-1'), refusedWith('USER_EXISTS', /"bob" already exists/));
    await assert.rejects(users.create('BOB', 'Other-Pass-1'), refusedWith('USER_EXISTS'));
    for (const bad of ['', '-bob', '.bob', 'bo b', 'bob:x', 'bøb', 'b'.repeat(65)]) {
      await assert.rejects(users.create(bad, 'Valid-Pass-1'), refusedWith('USERNAME_INVALID'), bad);
    }
    await assert.rejects(users.create('carl', 'weak'), (err: unknown) => {
      refusedWith('PASSWORD_POLICY')(err);
      assert.ok((err as UserDirectoryError).problems.includes('must have at least 8 characters'));
      assert.ok(!(err as UserDirectoryError).message.includes('weak'));
      return true;
    });
    assert.equal(await users.get('carl'), undefined);
    assert.equal((await users.create('b'.repeat(64), 'Valid-Pass-1')).username.length, 64);
  });

  it('verifies: ok, wrong password, unknown user, exact name', async () => {
    await users.create('erin', 'Erin-Pass-1');
    assert.equal((await users.verify('erin', 'Erin-Pass-1')).ok, true);
    assert.deepEqual(await users.verify('erin', 'Erin-Pass-2'), { ok: false, reason: 'wrong-password' });
    assert.deepEqual(await users.verify('erin', ''), { ok: false, reason: 'wrong-password' });
    assert.deepEqual(await users.verify('Erin', 'Erin-Pass-1'), { ok: false, reason: 'unknown-user' });
    assert.deepEqual(await users.verify('nobody', 'Erin-Pass-1'), { ok: false, reason: 'unknown-user' });
    assert.deepEqual(await users.verify("erin' or '1'='1", 'x'), { ok: false, reason: 'unknown-user' });
  });

  it('stores only a scrypt hash', async () => {
    await users.create('frank', 'Frank-Pass-1');
    const row = (await database.knex('users').where({ username: 'frank' }).first()) as { password_hash: string };
    // N=2^10: @wharf/sdk-testing lowers the cost of new hashes; password-hash.test checks 2^15 without it.
    assert.match(row.password_hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.ok(!row.password_hash.includes('Frank-Pass-1'));
  });

  it('keeps user names case-sensitive in the database itself', async () => {
    // Servers may default to case-insensitive collations; the table must not.
    const now = Date.now();
    const row = (username: string) => ({ username, password_hash: 'x', admin: false, disabled: false, created_at: now, updated_at: now, password_changed_at: now });
    await database.knex('users').insert(row('Zed'));
    await database.knex('users').insert(row('zed'));
    const rows = (await database.knex('users').select('username').whereIn('username', ['Zed', 'zed'])) as { username: string }[];
    assert.deepEqual(rows.map((r) => r.username).sort(), ['Zed', 'zed']);
    assert.equal((await database.knex('users').where({ username: 'ZED' })).length, 0);
  });

  it('sets passwords under the policy', async () => {
    const before = await users.create('gina', 'Gina-Pass-1');
    await new Promise((r) => setTimeout(r, 5));
    await users.setPassword('gina', 'Gina-Pass-2');
    assert.deepEqual(await users.verify('gina', 'Gina-Pass-1'), { ok: false, reason: 'wrong-password' });
    const after = await users.verify('gina', 'Gina-Pass-2');
    assert.ok(after.ok);
    assert.ok(after.user.passwordChangedAt.getTime() > before.passwordChangedAt.getTime());
    assert.deepEqual(after.user.createdAt, before.createdAt);
    await assert.rejects(users.setPassword('gina', 'gina-pass-3'), refusedWith('PASSWORD_POLICY', /upper case/));
    assert.equal((await users.verify('gina', 'Gina-Pass-2')).ok, true);
    await assert.rejects(users.setPassword('nobody', 'Valid-Pass-1'), refusedWith('USER_UNKNOWN'));
  });

  it('lists users by name, page by page, filtered by q', async () => {
    for (const n of ['u01', 'u02', 'u03', 'u10', 'u11', 'under_score', 'percent']) await users.create(n, 'List-Pass-1');
    const all = await users.list({ pageSize: 100 });
    const names = all.items.map((u) => u.username);
    assert.deepEqual(names, [...names].sort());
    assert.equal(all.total, names.length);
    assert.ok(names.includes('admin') && names.includes('u11'));

    const p1 = await users.list({ q: 'U', page: 1, pageSize: 2 });
    const p2 = await users.list({ q: 'u', page: 2, pageSize: 2 });
    const p3 = await users.list({ q: 'u', page: 3, pageSize: 2 });
    assert.deepEqual(p1.items.map((u) => u.username), ['u01', 'u02']);
    assert.deepEqual(p2.items.map((u) => u.username), ['u03', 'u10']);
    assert.deepEqual(p3.items.map((u) => u.username), ['u11', 'under_score']);
    assert.equal(p1.total, 6);
    assert.deepEqual([p2.page, p2.pageSize], [2, 2]);
    assert.deepEqual((await users.list({ q: 'u1' })).items.map((u) => u.username), ['u10', 'u11']);
    // Wildcards are text, not patterns.
    assert.deepEqual((await users.list({ q: '_' })).items.map((u) => u.username), ['ops_1', 'under_score']);
    assert.equal((await users.list({ q: '%' })).total, 0);
    assert.equal((await users.list({ q: 'nothing-like-this' })).items.length, 0);
    const clamped = await users.list({ page: 0, pageSize: 1000 });
    assert.deepEqual([clamped.page, clamped.pageSize], [1, 100]);
    assert.ok(!JSON.stringify(all.items).includes('scrypt'));
  });

  it('disables and enables users', async () => {
    await users.create('hank', 'Hank-Pass-1');
    const disabled = await users.setDisabled('hank', true);
    assert.equal(disabled.disabled, true);
    assert.deepEqual(await users.verify('hank', 'Hank-Pass-1'), { ok: false, reason: 'disabled' });
    assert.deepEqual(await users.verify('hank', 'Hank-Pass-2'), { ok: false, reason: 'wrong-password' });
    assert.equal((await users.setDisabled('hank', false)).disabled, false);
    assert.equal((await users.verify('hank', 'Hank-Pass-1')).ok, true);
    await assert.rejects(users.setDisabled('nobody', true), refusedWith('USER_UNKNOWN'));
  });

  it('deletes users but keeps an enabled administrator', async () => {
    await users.create('ivan', 'Ivan-Pass-1');
    assert.equal(await users.delete('ivan'), true);
    assert.equal(await users.get('ivan'), undefined);
    assert.equal(await users.delete('ivan'), false);
    assert.deepEqual(await users.verify('ivan', 'Ivan-Pass-1'), { ok: false, reason: 'unknown-user' });

    // Two administrators: admin and ops_1. With ops_1 disabled, admin is the last enabled one.
    await users.setDisabled('ops_1', true);
    await assert.rejects(users.setDisabled('admin', true), refusedWith('LAST_ADMIN'));
    await assert.rejects(users.delete('admin'), refusedWith('LAST_ADMIN', /last enabled administrator/));
    assert.equal((await users.get('admin'))?.disabled, false);
    await users.setDisabled('ops_1', false);
    assert.equal(await users.delete('admin'), true);
    assert.equal(await users.hasAdmin(), true);
    await assert.rejects(users.delete('ops_1'), refusedWith('LAST_ADMIN'));
  });

  it('grants and revokes admin, keeping an enabled administrator', async () => {
    // ops_1 is now the only administrator.
    await users.create('judy', 'Judy-Pass-1');
    assert.equal((await users.setAdmin('judy', true)).admin, true);
    assert.equal((await users.get('judy'))?.admin, true);
    assert.equal((await users.setAdmin('ops_1', false)).admin, false);
    await assert.rejects(users.setAdmin('judy', false), refusedWith('LAST_ADMIN', /cannot demote "judy"/));
    assert.equal((await users.get('judy'))?.admin, true);
    await assert.rejects(users.setAdmin('nobody', true), refusedWith('USER_UNKNOWN'));
  });

  it('records users of other providers on first login: no password, never over a local user', async () => {
    const ldapUser = { username: 'Carla.Ext', provider: 'ldap', admin: true };
    assert.equal(await users.recordExternal(ldapUser), 'created');
    assert.equal(await users.recordExternal(ldapUser), 'unchanged');
    assert.equal(await users.recordExternal({ ...ldapUser, admin: false }), 'updated');
    const carla = await users.get('Carla.Ext');
    assert.equal(carla?.provider, 'ldap');
    assert.equal(carla?.admin, false);
    // Same name from another provider, or the name of a local user: left alone.
    assert.equal(await users.recordExternal({ ...ldapUser, provider: 'oidc' }), 'conflict');
    assert.equal(await users.recordExternal({ username: 'judy', provider: 'ldap', admin: true }), 'conflict');
    assert.equal((await users.get('judy'))?.provider, 'db');
    assert.equal(await users.recordExternal({ username: 'x'.repeat(65), provider: 'ldap', admin: false }), 'invalid');
    assert.equal(await users.recordExternal({ username: 'local', provider: 'db', admin: false }), 'invalid');
    // Two nodes seeing the same first login: one row.
    const raced = await Promise.all([1, 2, 3].map(() => users.recordExternal({ username: 'raced', provider: 'ldap', admin: false })));
    assert.ok(raced.includes('created'));
    assert.equal((await users.list({ username: 'raced' })).total, 1);

    // No password: no login here (the next provider answers), none can be set, and the
    // directory does not decide their admin flag or disable them.
    const stored = await database.knex('users').where({ username: 'Carla.Ext' }).first();
    assert.equal(stored.password_hash, null);
    assert.deepEqual(await users.verify('Carla.Ext', ''), { ok: false, reason: 'unknown-user' });
    await assert.rejects(users.setPassword('Carla.Ext', 'Carla-Pass-1'), refusedWith('EXTERNAL_USER', /user of ldap/));
    await assert.rejects(users.setAdmin('Carla.Ext', true), refusedWith('EXTERNAL_USER'));
    await assert.rejects(users.setDisabled('Carla.Ext', true), refusedWith('EXTERNAL_USER'));
    await assert.rejects(users.create('raced', 'Raced-Pass-1'), refusedWith('USER_EXISTS'));
    // The name is still unique across providers (the migration kept the index).
    await assert.rejects(database.knex('users').insert({ username: 'raced', provider: 'db', password_hash: 'x', admin: false, disabled: false, created_at: 1, updated_at: 1, password_changed_at: 1 }));

    // Listed with their provider; exact and substring filters; external admins never count as
    // the db provider's administrators.
    const listed = await users.list({ username: 'Carla.Ext' });
    assert.deepEqual(listed.items.map((u) => [u.username, u.provider]), [['Carla.Ext', 'ldap']]);
    assert.deepEqual((await users.list({ q: 'carla' })).items.map((u) => u.username), ['Carla.Ext']);
    assert.equal(await users.recordExternal({ username: 'ext-admin', provider: 'ldap', admin: true }), 'created');
    await assert.rejects(users.setAdmin('judy', false), refusedWith('LAST_ADMIN'));
    assert.equal(await users.delete('Carla.Ext'), true);
    assert.equal(await users.get('Carla.Ext'), undefined);
  });
});
