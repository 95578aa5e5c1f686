import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, forEachDatabase, type TestDatabase, type TestRegistry, verifyPlugin } from '@wharf/sdk-testing';
import { isWharfPlugin } from '@wharf/sdk';
import authDbDefault, { authDbPlugin, authDbUsersRef } from './index.js';
import { bootRegistry, captureLogs, getV2, tempDir, withAdminPassword, type CapturedLogs } from './test-support.js';
import { DB_PLUGIN_VERSION } from './version.js';

/** The plugin as the kernel loads it: `/v2/` Basic auth of a real registry answered from the users table. */

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_PASSWORD = 'Registry-Admin-1';

describe('@wharf/plugin-auth-db', () => {
  it('loads through the production loader, exported as default and as authDbPlugin, at the package version', async () => {
    const pkg = JSON.parse(await readFile(path.join(here, '../package.json'), 'utf8')) as { name: string; version: string };
    assert.equal(pkg.name, '@wharf/plugin-auth-db');
    const verified = await verifyPlugin('db', { kind: 'auth' });
    assert.deepEqual({ ...verified, config: undefined, taps: [...verified.taps].sort() }, {
      id: 'db',
      kind: 'auth',
      version: pkg.version,
      kernel: '^0.1.0',
      packageName: pkg.name,
      // Its taps need the user directory: they are made in its init, which verification never runs.
      taps: [],
      services: [authDbUsersRef.id],
      initDeps: [authDbUsersRef.id, 'core.database', 'core.events'],
      migrations: true,
      routes: false,
      config: undefined,
    });
    assert.equal(authDbDefault, authDbPlugin);
    assert.ok(isWharfPlugin(authDbPlugin));
    assert.equal(DB_PLUGIN_VERSION, pkg.version);
  });

  it('checks its section and its password policy at verification, naming the key', async () => {
    await assert.rejects(verifyPlugin('db', { kind: 'auth', config: { passwrdPolicy: {} } }), /auth\[0\]\.db\.passwrdPolicy: is not a known key/);
    await assert.rejects(
      verifyPlugin('db', { kind: 'auth', config: { passwordPolicy: { minLength: 20, maxLength: 10 } } }),
      /plugin "db".*minLength \(20\) is greater than maxLength \(10\)/,
    );
  });
});

forEachDatabase((_name, create) => {
  let server: TestRegistry | undefined;
  let logs: CapturedLogs;
  let cleanup: (() => Promise<void>) | undefined;

  before(async () => {
    const db = await create();
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    logs = captureLogs();
    server = await withAdminPassword(ADMIN_PASSWORD, () => bootRegistry({ db, dataDir: tmp.dir, logs }));
  });
  after(async () => {
    await server?.close();
    await cleanup?.();
  });

  it('GET /v2/: 200 for the admin, 401 for a wrong password, an unknown user or another case', async () => {
    const url = (server as TestRegistry).url;
    assert.deepEqual(await getV2(url, 'admin', ADMIN_PASSWORD), { status: 200, code: undefined });
    assert.deepEqual(await getV2(url, 'admin', 'Wrong-Password-1'), { status: 401, code: 'UNAUTHORIZED' });
    // Nobody else in the chain: a name the table does not know is refused too.
    assert.deepEqual(await getV2(url, 'mallory', ADMIN_PASSWORD), { status: 401, code: 'UNAUTHORIZED' });
    assert.deepEqual(await getV2(url, 'ADMIN', ADMIN_PASSWORD), { status: 401, code: 'UNAUTHORIZED' });
  });

  it('refuses a disabled user with the right password, and takes them back when enabled', async () => {
    const s = server as TestRegistry;
    const users = s.get(authDbUsersRef);
    await users.create('dana', 'Dana-Pass-1');
    await users.setDisabled('dana', true);
    assert.deepEqual(await getV2(s.url, 'dana', 'Dana-Pass-1'), { status: 401, code: 'UNAUTHORIZED' });
    await users.setDisabled('dana', false);
    assert.equal((await getV2(s.url, 'dana', 'Dana-Pass-1')).status, 200);
  });

  it('answers with a principal of provider "db" that carries the admin flag', async () => {
    const s = server as TestRegistry;
    await s.get(authDbUsersRef).create('eve', 'Eve-Pass-12');
    const info = { requestId: 't', ip: '127.0.0.1', method: 'GET', path: '/v2/', userAgent: undefined };
    const auth = s.hooks.auth.authenticate;
    const adminUser = await s.get(authDbUsersRef).get('admin');
    assert.deepEqual(await auth.promise({ kind: 'basic', username: 'admin', password: ADMIN_PASSWORD }, info), {
      subject: 'admin',
      kind: 'user',
      provider: 'db',
      admin: true,
      groups: [],
      claims: { passwordChangedAt: adminUser?.passwordChangedAt.getTime() },
    });
    assert.equal((await auth.promise({ kind: 'basic', username: 'eve', password: 'Eve-Pass-12' }, info))?.admin, false);
    assert.equal(await auth.promise({ kind: 'basic', username: 'nobody', password: 'x' }, info), undefined);
    assert.equal(await auth.promise({ kind: 'bearer', token: 'abc' }, info), undefined);
    await assert.rejects(auth.promise({ kind: 'basic', username: 'eve', password: 'nope' }, info), /invalid username or password/);
  });

  it('answers auth.active: false for deleted, disabled, re-flagged or re-passworded db users, undefined for others', async () => {
    const s = server as TestRegistry;
    const users = s.get(authDbUsersRef);
    const active = s.hooks.auth.active;
    const fred = await users.create('fred', 'Fred-Pass-12');
    const principal = { subject: 'fred', kind: 'user' as const, provider: 'db', groups: [], admin: false };
    const withClaim = { ...principal, claims: { passwordChangedAt: fred.passwordChangedAt.getTime() } };
    assert.equal(await active.promise(withClaim), true);
    assert.equal(await active.promise(principal), false, 'a principal bound to no password (a token from before the claim) is refused');
    assert.equal(await active.promise({ ...withClaim, admin: true }), false, 'the admin flag changed since');
    await new Promise((r) => setTimeout(r, 5));
    await users.setPassword('fred', 'Fred-Pass-34');
    assert.equal(await active.promise(withClaim), false, 'a login or token of the old password');
    const current = { ...principal, claims: { passwordChangedAt: (await users.get('fred'))!.passwordChangedAt.getTime() } };
    assert.equal(await active.promise(current), true, 'the new password');
    await users.setDisabled('fred', true);
    assert.equal(await active.promise(current), false);
    await users.setDisabled('fred', false);
    await users.delete('fred');
    assert.equal(await active.promise(current), false);
    assert.equal(await active.promise({ ...principal, provider: 'ldap' }), undefined);
    assert.equal(await active.promise({ ...principal, kind: 'robot', subject: 'robot$x' }), undefined);
  });

  it('records principals of other providers through auth.principal, following their admin flag, and passes them on unchanged', async () => {
    const s = server as TestRegistry;
    const info = { requestId: 't', ip: '127.0.0.1', method: 'GET', path: '/v2/', userAgent: undefined };
    const ldap = { subject: 'Gina', kind: 'user' as const, provider: 'ldap', groups: ['ops'], admin: false };
    assert.deepEqual(await s.hooks.auth.principal.promise(ldap, info), ldap);
    const gina = await s.get(authDbUsersRef).get('Gina');
    assert.equal(gina?.provider, 'ldap');
    // Known now: the next login leaves the row as it is.
    await s.hooks.auth.principal.promise(ldap, info);
    assert.deepEqual(await s.get(authDbUsersRef).get('Gina'), gina);
    // The provider's admin flag is followed.
    await s.hooks.auth.principal.promise({ ...ldap, admin: true }, info);
    assert.equal((await s.get(authDbUsersRef).get('Gina'))?.admin, true);
    // Robots, anonymous callers and db users are not recorded.
    await s.hooks.auth.principal.promise({ ...ldap, subject: 'robot$ci', kind: 'robot' }, info);
    assert.equal(await s.get(authDbUsersRef).get('robot$ci'), undefined);
  });

  it('never logs a password', () => {
    for (const secret of [ADMIN_PASSWORD, 'Wrong-Password-1', 'Dana-Pass-1', 'Eve-Pass-12']) {
      assert.ok(!logs.text().includes(secret), `log contains ${secret}`);
    }
    assert.match(logs.text(), /"status":401/, "the refused logins were logged");
  });
});

describe('config errors', () => {
  let db: TestDatabase;
  let dir: { dir: string; cleanup(): Promise<void> };
  before(async () => {
    db = await createTestDatabase('sqlite');
    dir = await tempDir();
  });
  after(async () => {
    await dir?.cleanup();
    await db?.drop();
  });

  it('refuses an unknown key and an impossible policy at boot, naming the plugin', async () => {
    await assert.rejects(bootRegistry({ db, dataDir: dir.dir, section: { passwrdPolicy: {} } }), /passwrdPolicy/);
    await assert.rejects(bootRegistry({ db, dataDir: dir.dir, section: { bootstrapAdmin: { username: 'Admin' } } }), /auth\[0\]\.db\.bootstrapAdmin\.username/);
    await assert.rejects(
      bootRegistry({ db, dataDir: dir.dir, section: { passwordPolicy: { minLength: 20, maxLength: 10 } } }),
      /plugin "db".*minLength \(20\) is greater than maxLength \(10\)/,
    );
  });
});
