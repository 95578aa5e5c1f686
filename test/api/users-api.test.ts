import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RegistryError, Type, definePlugin, type Principal } from '@wharf/sdk';
import { ADMIN_PASSWORD, assertEnvelope, basic, bearer, call, fetchToken, refresh, sleep, startApiRegistry, type ApiRegistry } from './support/api-kit.js';
import { testDatabaseNames } from './support/server.js';

/**
 * The db auth plugin's users API over real HTTP, with token auth on: every operation allowed and
 * denied (administrator, plain user, anonymous, a delegated user manager), passwords (your own
 * with the old one, an administrator's reset, the policy), disabled and deleted users losing
 * their logins and tokens, and users of another provider recorded on their first login.
 */

/** Seconds an `auth.active` answer is reused in these tests. */
const ACTIVE_WINDOW_S = 1;

/**
 * A stand-in for LDAP: `erin` (and `olga`, an administrator there) log in with this plugin's
 * passwords. RBAC lets `manager` manage users without being an administrator, and keeps
 * repositories open.
 */
const corpDirectory = definePlugin({
  id: 'corp-ldap',
  kind: 'extension',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    const people: Record<string, { password: string; admin: boolean }> = { erin: { password: 'erin-corp-pw', admin: false }, olga: { password: 'olga-corp-pw', admin: true } };
    ctx.hooks.auth.authenticate.tapPromise('corp', async (creds): Promise<Principal | undefined> => {
      if (creds.kind !== 'basic') return undefined;
      const person = people[creds.username];
      if (!person) return undefined;
      if (person.password !== creds.password) throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
      return { subject: creds.username, kind: 'user', provider: 'corp-ldap', groups: ['staff'], admin: person.admin };
    });
    ctx.hooks.rbac.authorize.tapPromise('rules', async (principal, access) => {
      if (access.resource.type === 'repository') return { allow: true };
      if (principal.subject === 'manager' && access.resource.type === 'system' && access.resource.name === 'user') return { allow: true };
      return undefined;
    });
  },
});

for (const database of testDatabaseNames()) {
  describe(`users API of the db auth plugin (${database})`, () => {
    let reg: ApiRegistry;
    let url: string;
    const admin = basic('admin', ADMIN_PASSWORD);
    const users = '/api/v1/users';
    // Each caller its own address: the failed-login slowdown is per address.
    let address = 10;
    const as = (auth?: string) => ({ ...(auth ? { auth } : {}), headers: { 'x-forwarded-for': `198.51.100.${address++ % 250}` } });
    const createUser = async (username: string, password: string, extra: Record<string, unknown> = {}) => {
      const res = await call(url, 'POST', users, { auth: admin, body: { username, password, ...extra } });
      assert.equal(res.status, 201, res.text);
      return res;
    };
    const v2Status = async (auth: string) => (await fetch(`${url}/v2/`, { headers: { authorization: auth, 'x-forwarded-for': `203.0.113.${address++ % 250}` } })).status;
    const tokenStatus = async (user: string, password: string) =>
      (await fetch(`${url}/service/token?service=wharf`, { headers: { authorization: basic(user, password), 'x-forwarded-for': `203.0.113.${address++ % 250}` } })).status;

    before(async () => {
      reg = await startApiRegistry(database, {
        plugins: [corpDirectory],
        overrides: { extensions: { 'corp-ldap': {} }, token: { enabled: true, activeCacheSeconds: ACTIVE_WINDOW_S } },
      });
      url = reg.url;
      await createUser('pat', 'Pat-Pass-123');
      await createUser('manager', 'Manager-Pass-1');
    });
    after(() => reg.close());

    it('lists users for administrators and user managers only, with the q filters', async () => {
      const list = await call(url, 'GET', `${users}?page_size=100`, { auth: admin });
      assert.equal(list.status, 200, list.text);
      assert.ok(Number(list.headers.get('x-total-count')) >= 3);
      const pat = list.body.find((u: { username: string }) => u.username === 'pat');
      assert.deepEqual(Object.keys(pat).sort(), ['admin', 'createdAt', 'disabled', 'passwordChangedAt', 'provider', 'updatedAt', 'username']);
      assert.equal(pat.provider, 'db');
      assert.ok(!list.text.includes('scrypt') && !list.text.includes('password_hash'));
      assert.equal((await call(url, 'GET', users, { auth: basic('manager', 'Manager-Pass-1') })).status, 200);
      assertEnvelope(await call(url, 'GET', users, as(basic('pat', 'Pat-Pass-123'))), 403, 'FORBIDDEN');
      assertEnvelope(await call(url, 'GET', users), 401, 'UNAUTHORIZED');

      const exact = await call(url, 'GET', `${users}?q=${encodeURIComponent('username=pat')}`, { auth: admin });
      assert.deepEqual(exact.body.map((u: { username: string }) => u.username), ['pat']);
      assert.equal(exact.headers.get('x-total-count'), '1');
      const fuzzy = await call(url, 'GET', `${users}?q=${encodeURIComponent('username=~ana')}`, { auth: admin });
      assert.deepEqual(fuzzy.body.map((u: { username: string }) => u.username), ['manager']);
      assertEnvelope(await call(url, 'GET', `${users}?q=${encodeURIComponent('admin=true')}`, { auth: admin }), 400, 'BAD_REQUEST', /unknown key "admin"/);
    });

    it('sorts users across pages with sort= (database order, not the page\'s)', async () => {
      const names = async (query: string) => {
        const res = await call(url, 'GET', `${users}?${query}`, { auth: admin });
        assert.equal(res.status, 200, res.text);
        return res.body.map((u: { username: string }) => u.username) as string[];
      };
      assert.deepEqual(await names('sort=-username&page_size=2'), ['pat', 'manager']);
      assert.deepEqual(await names('sort=-username&page_size=2&page=2'), ['admin']);
      assert.deepEqual(await names('sort=username'), ['admin', 'manager', 'pat']);
      assert.deepEqual(await names('sort=-createdAt'), ['manager', 'pat', 'admin']);
      assert.deepEqual(await names('sort=-admin,username'), ['admin', 'manager', 'pat'], 'administrators first');
      assertEnvelope(await call(url, 'GET', `${users}?sort=password`, { auth: admin }), 400, 'BAD_REQUEST', /unknown field "password" \(this operation sorts by username, provider, admin, disabled, createdAt, updatedAt/);
    });

    it('creates users: 201 with Location for administrators, refusals in the envelope', async () => {
      const created = await createUser('Quinn', 'Quinn-Pass-1');
      assert.equal(created.headers.get('location'), '/api/v1/users/quinn');
      assert.equal(created.body.username, 'quinn');
      assert.equal(created.body.admin, false);
      assert.ok(!created.text.includes('Quinn-Pass-1') && !created.text.includes('scrypt'));
      assert.equal(await v2Status(basic('quinn', 'Quinn-Pass-1')), 200);

      assertEnvelope(await call(url, 'POST', users, { auth: admin, body: { username: 'quinn', password: 'Quinn-Pass-2' } }), 409, 'CONFLICT', /already exists/);
      const weak = await call(url, 'POST', users, { auth: admin, body: { username: 'rita', password: 'short' } });
      assertEnvelope(weak, 400, 'BAD_REQUEST', /at least 8 characters.*upper case letter.*digit/);
      assertEnvelope(await call(url, 'POST', users, { auth: admin, body: { username: '-bad name', password: 'Rita-Pass-1' } }), 400, 'BAD_REQUEST', /invalid user name/);
      assertEnvelope(await call(url, 'POST', users, { auth: admin, body: { username: 'rita' } }), 400, 'BAD_REQUEST', /\/password: is required/);
      assertEnvelope(await call(url, 'POST', users, { auth: admin, body: { username: 'rita', password: 'Rita-Pass-1', role: 'x' } }), 400, 'BAD_REQUEST', /\/role: is not allowed/);
      assertEnvelope(await call(url, 'POST', users, { ...as(basic('pat', 'Pat-Pass-123')), body: { username: 'rita', password: 'Rita-Pass-1' } }), 403, 'FORBIDDEN');
      assertEnvelope(await call(url, 'POST', users, { body: { username: 'rita', password: 'Rita-Pass-1' } }), 401, 'UNAUTHORIZED');
      assert.equal((await call(url, 'GET', `${users}/rita`, { auth: admin })).status, 404, 'nothing was created');

      // A delegated user manager creates users, but no administrators.
      const manager = basic('manager', 'Manager-Pass-1');
      assert.equal((await call(url, 'POST', users, { auth: manager, body: { username: 'rita', password: 'Rita-Pass-1' } })).status, 201);
      assertEnvelope(await call(url, 'POST', users, { auth: manager, body: { username: 'sam', password: 'Sam-Pass-12', admin: true } }), 403, 'FORBIDDEN', /administrators/);
      const boss = await call(url, 'POST', users, { auth: admin, body: { username: 'sam', password: 'Sam-Pass-12', admin: true } });
      assert.equal(boss.status, 201, boss.text);
      assert.equal(boss.body.admin, true);
    });

    it('reads a user: yourself always, others with the right, 404 only for those allowed to know', async () => {
      const self = await call(url, 'GET', `${users}/pat`, { auth: basic('pat', 'Pat-Pass-123') });
      assert.equal(self.status, 200, self.text);
      assert.equal(self.body.username, 'pat');
      assert.equal((await call(url, 'GET', `${users}/pat`, { auth: admin })).status, 200);
      assert.equal((await call(url, 'GET', `${users}/pat`, { auth: basic('manager', 'Manager-Pass-1') })).status, 200);
      assertEnvelope(await call(url, 'GET', `${users}/manager`, as(basic('pat', 'Pat-Pass-123'))), 403, 'FORBIDDEN');
      assertEnvelope(await call(url, 'GET', `${users}/nobody`, as(basic('pat', 'Pat-Pass-123'))), 403, 'FORBIDDEN');
      assertEnvelope(await call(url, 'GET', `${users}/nobody`, { auth: admin }), 404, 'NOT_FOUND');
      assertEnvelope(await call(url, 'GET', `${users}/pat`), 401, 'UNAUTHORIZED');
      assertEnvelope(await call(url, 'GET', `${users}/${'x'.repeat(65)}`, { auth: admin }), 400, 'BAD_REQUEST', /\/username/);
    });

    it('disables a user, who then cannot log in on /v2/ nor at the token endpoint, even from the credential cache', async () => {
      await createUser('tess', 'Tess-Pass-12');
      const tess = basic('tess', 'Tess-Pass-12');
      assert.equal(await v2Status(tess), 200); // now in the credential cache
      assert.equal(await tokenStatus('tess', 'Tess-Pass-12'), 200);

      assertEnvelope(await call(url, 'PATCH', `${users}/tess`, { ...as(basic('pat', 'Pat-Pass-123')), body: { disabled: true } }), 403, 'FORBIDDEN');
      assertEnvelope(await call(url, 'PATCH', `${users}/tess`, { body: { disabled: true } }), 401, 'UNAUTHORIZED');
      const disabled = await call(url, 'PATCH', `${users}/tess`, { auth: admin, body: { disabled: true } });
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal(disabled.body.disabled, true);
      await sleep(ACTIVE_WINDOW_S * 1000 + 200);
      assert.equal(await v2Status(tess), 401);
      assert.equal(await tokenStatus('tess', 'Tess-Pass-12'), 401);
      assertEnvelope(await call(url, 'GET', '/api/v1/users/current', as(tess)), 401, 'UNAUTHORIZED');

      const enabled = await call(url, 'PATCH', `${users}/tess`, { auth: basic('manager', 'Manager-Pass-1'), body: { disabled: false } });
      assert.equal(enabled.status, 200, enabled.text);
      assert.equal(await tokenStatus('tess', 'Tess-Pass-12'), 200);
    });

    it('grants admin only as an administrator, never to or from yourself; validates the patch', async () => {
      const manager = basic('manager', 'Manager-Pass-1');
      assertEnvelope(await call(url, 'PATCH', `${users}/tess`, { auth: manager, body: { admin: true } }), 403, 'FORBIDDEN', /only system administrators/);
      const granted = await call(url, 'PATCH', `${users}/tess`, { auth: admin, body: { admin: true } });
      assert.equal(granted.body.admin, true);
      // Her cached login still says "not admin": it is dropped within the window.
      await sleep(ACTIVE_WINDOW_S * 1000 + 200);
      const me = await call(url, 'GET', '/api/v1/users/current', as(basic('tess', 'Tess-Pass-12')));
      assert.equal(me.body.admin, true);
      assertEnvelope(await call(url, 'PATCH', `${users}/admin`, { auth: admin, body: { admin: false } }), 403, 'FORBIDDEN', /your own/);
      assertEnvelope(await call(url, 'PATCH', `${users}/manager`, { auth: manager, body: { disabled: true } }), 403, 'FORBIDDEN', /your own/);
      assert.equal((await call(url, 'PATCH', `${users}/tess`, { auth: admin, body: { admin: false } })).body.admin, false);
      assertEnvelope(await call(url, 'PATCH', `${users}/tess`, { auth: admin, body: {} }), 400, 'BAD_REQUEST');
      assertEnvelope(await call(url, 'PATCH', `${users}/tess`, { auth: admin, body: { admin: 'yes' } }), 400, 'BAD_REQUEST', /\/admin: must be boolean/);
      assertEnvelope(await call(url, 'PATCH', `${users}/nobody`, { auth: admin, body: { admin: true } }), 404, 'NOT_FOUND');
    });

    it('changes your own password with the old one, and lets administrators reset others', async () => {
      await createUser('uma', 'Uma-Pass-123');
      const path = `${users}/uma/password`;
      const uma = basic('uma', 'Uma-Pass-123');
      assertEnvelope(await call(url, 'PUT', path, { auth: uma, body: { newPassword: 'Uma-Pass-456' } }), 400, 'BAD_REQUEST', /oldPassword/);
      // A wrong old password is 403 (the caller is known but may not do this), not 401.
      assertEnvelope(await call(url, 'PUT', path, { auth: uma, body: { oldPassword: 'Not-Hers-123', newPassword: 'Uma-Pass-456' } }), 403, 'FORBIDDEN', /old password/);
      assertEnvelope(await call(url, 'PUT', path, { auth: uma, body: { oldPassword: 'Uma-Pass-123', newPassword: 'Uma-Pass-123' } }), 400, 'BAD_REQUEST', /differ/);
      assertEnvelope(await call(url, 'PUT', path, { auth: uma, body: { oldPassword: 'Uma-Pass-123', newPassword: 'weakweak' } }), 400, 'BAD_REQUEST', /upper case letter/);
      const changed = await call(url, 'PUT', path, { auth: uma, body: { oldPassword: 'Uma-Pass-123', newPassword: 'Uma-Pass-456' } });
      assert.equal(changed.status, 204, changed.text);
      assert.equal(changed.text, '');
      assert.equal(await tokenStatus('uma', 'Uma-Pass-456'), 200);
      // The old password was in the credential cache: it stops working within the window.
      await sleep(ACTIVE_WINDOW_S * 1000 + 200);
      assert.equal(await tokenStatus('uma', 'Uma-Pass-123'), 401);

      // Others: only with the right; an administrator needs no old password.
      assertEnvelope(await call(url, 'PUT', path, { ...as(basic('pat', 'Pat-Pass-123')), body: { newPassword: 'Pat-Owns-Uma-1' } }), 403, 'FORBIDDEN');
      assertEnvelope(await call(url, 'PUT', path, { body: { newPassword: 'Anon-Owns-Uma-1' } }), 401, 'UNAUTHORIZED');
      assertEnvelope(await call(url, 'PUT', `${users}/nobody/password`, { auth: admin, body: { newPassword: 'Nobody-Pass-1' } }), 404, 'NOT_FOUND');
      const reset = await call(url, 'PUT', path, { auth: admin, body: { newPassword: 'Uma-Reset-789' } });
      assert.equal(reset.status, 204, reset.text);
      assert.equal(await tokenStatus('uma', 'Uma-Reset-789'), 200);
      assert.equal(await tokenStatus('uma', 'Uma-Pass-456'), 401);
      assertEnvelope(await call(url, 'PUT', path, { auth: admin, body: { newPassword: 'short' } }), 400, 'BAD_REQUEST', /at least 8/);
    });

    it('deletes users, never yourself; a deleted user\'s refresh and access tokens stop working within the window', async () => {
      await createUser('vic', 'Vic-Pass-123');
      const { token, refresh_token: refreshToken } = await fetchToken(url, 'vic', 'Vic-Pass-123', { scope: 'repository:vic/app:pull', offline: true });
      assert.ok(refreshToken);
      assert.equal(await v2Status(bearer(token)), 200);
      assert.equal((await call(url, 'GET', '/api/v1/users/current', { auth: bearer(token) })).status, 200);
      assert.equal(await refresh(url, refreshToken), 200);

      assertEnvelope(await call(url, 'DELETE', `${users}/vic`, as(basic('pat', 'Pat-Pass-123'))), 403, 'FORBIDDEN');
      assertEnvelope(await call(url, 'DELETE', `${users}/vic`), 401, 'UNAUTHORIZED');
      assertEnvelope(await call(url, 'DELETE', `${users}/admin`, { auth: admin }), 403, 'FORBIDDEN', /yourself/);
      const deleted = await call(url, 'DELETE', `${users}/vic`, { auth: admin });
      assert.equal(deleted.status, 204, deleted.text);
      assertEnvelope(await call(url, 'DELETE', `${users}/vic`, { auth: admin }), 404, 'NOT_FOUND');

      await sleep(ACTIVE_WINDOW_S * 1000 + 200);
      assert.equal(await refresh(url, refreshToken), 401);
      const v2 = await fetch(`${url}/v2/`, { headers: { authorization: bearer(token) } });
      assert.equal(v2.status, 401);
      assert.match(v2.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      assertEnvelope(await call(url, 'GET', '/api/v1/users/current', { auth: bearer(token) }), 401, 'UNAUTHORIZED');
      assert.equal(await tokenStatus('vic', 'Vic-Pass-123'), 401);
      // Other users' tokens are untouched.
      const pat = await fetchToken(url, 'pat', 'Pat-Pass-123');
      assert.equal((await call(url, 'GET', '/api/v1/users/current', { auth: bearer(pat.token) })).status, 200);
    });

    it('records users of another provider on their first login, with that provider\'s admin flag', async () => {
      assertEnvelope(await call(url, 'GET', `${users}/erin`, { auth: admin }), 404, 'NOT_FOUND');
      const erin = basic('erin', 'erin-corp-pw');
      const me = await call(url, 'GET', '/api/v1/users/current', { auth: erin });
      assert.equal(me.status, 200, me.text);
      assert.deepEqual(me.body, { subject: 'erin', kind: 'user', provider: 'corp-ldap', admin: false, groups: ['staff'] });

      const listed = await call(url, 'GET', `${users}?q=${encodeURIComponent('username=erin')}`, { auth: admin });
      assert.equal(listed.body.length, 1, listed.text);
      assert.equal(listed.body[0].provider, 'corp-ldap');
      assert.equal(listed.body[0].admin, false);
      assert.equal(listed.body[0].passwordChangedAt, undefined);
      // She reads herself (same name, same provider); nobody gives her a db password or admin.
      assert.equal((await call(url, 'GET', `${users}/erin`, { auth: erin })).status, 200);
      assertEnvelope(await call(url, 'PUT', `${users}/erin/password`, { auth: admin, body: { newPassword: 'Erin-Db-Pass-1' } }), 409, 'CONFLICT', /corp-ldap/);
      assertEnvelope(await call(url, 'PATCH', `${users}/erin`, { auth: admin, body: { admin: true } }), 409, 'CONFLICT', /provider/);
      assertEnvelope(await call(url, 'PATCH', `${users}/erin`, { auth: admin, body: { disabled: true } }), 409, 'CONFLICT');
      assert.equal(await v2Status(basic('erin', '')), 401, 'no db login without a db password');

      // Administrators of the other provider are shown as such, and act as such.
      assert.equal(await tokenStatus('olga', 'olga-corp-pw'), 200);
      const olga = await call(url, 'GET', `${users}/olga`, { auth: admin });
      assert.equal(olga.body.admin, true);
      assert.equal(olga.body.provider, 'corp-ldap');
      assert.equal((await call(url, 'GET', users, { auth: basic('olga', 'olga-corp-pw') })).status, 200);

      // Another provider's user is not the db plugin's to judge: her token outlives her record,
      // and her next request records her again.
      const { token } = await fetchToken(url, 'erin', 'erin-corp-pw');
      assert.equal((await call(url, 'DELETE', `${users}/erin`, { auth: admin })).status, 204);
      await sleep(ACTIVE_WINDOW_S * 1000 + 200);
      assert.equal((await call(url, 'GET', '/api/v1/users/current', { auth: bearer(token) })).status, 200);
      assert.equal((await call(url, 'GET', `${users}/erin`, { auth: admin })).status, 200);
    });
  });
}
