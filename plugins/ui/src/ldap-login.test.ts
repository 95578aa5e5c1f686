import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { GROUPS_DN, PASSWORDS, PEOPLE_DN, SEARCH_DN, SEARCH_PASSWORD, startSlapd, type Slapd } from '@wharf/plugin-auth-ldap/test-support/slapd';
import { createTestDatabase, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { bootRegistry, call, login } from './test-support.js';

/**
 * An LDAP user logs in to the UI the way a database user does (the login goes through the
 * configured providers), and the session carries the directory's groups (SQLite; the session
 * store's databases are covered in sessions.test.ts).
 */

let slapd: Slapd;
let db: TestDatabase;
let registry: TestRegistry;
before(async () => {
  slapd = await startSlapd();
  db = await createTestDatabase('sqlite');
  const ldap = { url: slapd.url, bindDN: SEARCH_DN, bindPassword: SEARCH_PASSWORD, userBase: PEOPLE_DN, groups: { mode: 'search', base: GROUPS_DN } };
  registry = await bootRegistry(db, { auth: [{ ldap }, { db: {} }] });
});
after(async () => {
  await registry?.close();
  await slapd?.stop();
  await db?.drop();
});

it('logs an LDAP user in; the cookie is that user, with the directory\'s groups', async () => {
  const wrong = await call(registry.url, 'POST', '/_ext/ui/session', { authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` });
  assert.equal(wrong.status, 401);
  const s = await login(registry.url, 'alice', PASSWORDS['alice'] as string);
  const me = await call(registry.url, 'GET', '/api/v1/users/current', { cookie: s.cookie });
  assert.equal(me.status, 200);
  assert.equal(me.body.subject, 'alice');
  assert.equal(me.body.provider, 'ldap');
  assert.ok(me.body.groups.length > 0, `groups: ${JSON.stringify(me.body.groups)}`);
  const session = await call(registry.url, 'GET', '/_ext/ui/session', { cookie: s.cookie });
  assert.equal(session.body.user.provider, 'ldap');
});
