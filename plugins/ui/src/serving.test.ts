import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { captureLogs, createTestDatabase, forEachDatabase, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { CONTENT_SECURITY_POLICY, sessionCookie } from './security.js';
import { ADMIN_PASSWORD, basic, bootRegistry, call, login, type Login } from './test-support.js';

/**
 * The UI plugin on a real registry (db users, projects RBAC) on each database: how the app is
 * served (cache headers, CSP, client routes, paths it must never shadow), and the attacks on its
 * session: cookie flags, CSRF on every state-changing call, logout and a disabled account ending
 * a session at once, the cookie never outranking an Authorization header, and no secret in logs.
 */

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Strict and Path=/; Secure with the __Host- name over https', () => {
    assert.equal(sessionCookie(false, 'v', 60), 'wharf_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60');
    assert.equal(sessionCookie(true, 'v', 60), '__Host-wharf_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure');
  });
  it('CSP allows scripts and styles from the origin only: no unsafe-inline, no eval', () => {
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
  });
});

forEachDatabase((dbName, create) => {
  let registry: TestRegistry;
  const logs = captureLogs({ level: 'debug' });
  const admin = basic('admin', ADMIN_PASSWORD);
  const secrets: string[] = [ADMIN_PASSWORD, 'Dora-Passw0rd-1'];
  let session: Login;

  before(async () => {
    registry = await bootRegistry(await create(), { log: { level: 'debug', access: true } }, logs.stream);
    session = await login(registry.url, 'admin', ADMIN_PASSWORD);
    secrets.push(session.cookie.split('=')[1] as string, session.csrf);
  });
  after(() => registry?.close());

  it('serves index.html no-cache with the CSP, hashed assets immutable and gzipped, client routes as the app', async () => {
    const index = await call(registry.url, 'GET', '/');
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.equal(index.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.doesNotMatch(index.text, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in index.html');
    const etag = index.headers.get('etag') ?? '';
    assert.equal((await call(registry.url, 'GET', '/', { 'if-none-match': etag })).status, 304);

    const script = /src="(\/assets\/[^"]+\.js)"/.exec(index.text)?.[1];
    assert.ok(script, 'index.html loads a hashed script');
    const res = await fetch(`${registry.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.match(await res.text(), /\S/);

    for (const route of ['/projects', '/projects/library', '/projects/library/repositories/app/web']) {
      const page = await call(registry.url, 'GET', route);
      assert.equal(page.status, 200, route);
      assert.equal(page.text, index.text, `${route} is the app`);
    }
    assert.equal((await call(registry.url, 'GET', '/assets/missing-0000.js')).status, 404, 'a missing asset is a 404, not the page');
  });

  it('never shadows the registry, the API, the token service, extension routes, metrics or health', async () => {
    const notHtml = (res: { headers: Headers }) => !/text\/html/.test(res.headers.get('content-type') ?? '');
    const v2 = await call(registry.url, 'GET', '/v2/nope/manifests/latest', { authorization: admin });
    assert.equal(v2.status, 404);
    assert.ok(notHtml(v2) && /UNKNOWN/.test(v2.body.errors[0].code), v2.text);
    const apiMiss = await call(registry.url, 'GET', '/api/v1/nope');
    assert.equal(apiMiss.status, 404);
    assert.equal(apiMiss.body.errors[0].code, 'NOT_FOUND');
    for (const path of ['/api/v2/x', '/service/nope', '/_ext/ui/nope', '/metrics', '/metrics/x']) {
      const res = await call(registry.url, 'GET', path);
      assert.ok(res.status >= 400 && notHtml(res), `${path}: ${res.status} ${res.headers.get('content-type')}`);
    }
    assert.equal((await call(registry.url, 'GET', '/healthz')).status, 200);
  });

  it('logs in with the kernel\'s authentication only: a wrong password is a 401 without a cookie', async () => {
    const wrong = await call(registry.url, 'POST', '/_ext/ui/session', { authorization: basic('admin', 'not-the-password') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    assert.equal((await call(registry.url, 'POST', '/_ext/ui/session')).status, 400, 'no credentials');
    assert.match(session.setCookie, /^wharf_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/, 'no Secure over plain http');
    const me = await call(registry.url, 'GET', '/_ext/ui/session', { cookie: session.cookie });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.name, 'admin');
    assert.equal(me.body.csrfToken, session.csrf);
    assert.equal(me.headers.get('cache-control'), 'no-store');
  });

  it('authenticates /api/v1 with the cookie; a state-changing call needs the session\'s CSRF token', async () => {
    const current = await call(registry.url, 'GET', '/api/v1/users/current', { cookie: session.cookie });
    assert.equal(current.status, 200);
    assert.equal(current.body.subject, 'admin');
    const noToken = await call(registry.url, 'POST', '/api/v1/projects', { cookie: session.cookie }, { name: 'csrf-a' });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.body.errors[0].code, 'FORBIDDEN');
    const other = await login(registry.url, 'admin', ADMIN_PASSWORD);
    secrets.push(other.cookie.split('=')[1] as string, other.csrf);
    const wrongToken = await call(registry.url, 'POST', '/api/v1/projects', { cookie: session.cookie, 'x-csrf-token': other.csrf }, { name: 'csrf-a' });
    assert.equal(wrongToken.status, 403, 'another session\'s token does not fit');
    for (const method of ['PUT', 'DELETE']) {
      assert.equal((await call(registry.url, method, '/api/v1/projects/library', { cookie: session.cookie }, method === 'PUT' ? { public: true } : undefined)).status, 403, method);
    }
    assert.equal((await call(registry.url, 'GET', '/api/v1/projects/csrf-a', { authorization: admin })).status, 404, 'nothing was created');
    const ok = await call(registry.url, 'POST', '/api/v1/projects', { cookie: session.cookie, 'x-csrf-token': session.csrf }, { name: 'csrf-a' });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.owner, 'admin');
  });

  it('the cookie never outranks an Authorization header, nor rescues bad credentials', async () => {
    assert.equal((await call(registry.url, 'POST', '/api/v1/users', { authorization: admin }, { username: 'dora', password: 'Dora-Passw0rd-1' })).status, 201);
    const both = await call(registry.url, 'GET', '/api/v1/users/current', { cookie: session.cookie, authorization: basic('dora', 'Dora-Passw0rd-1') });
    assert.equal(both.body.subject, 'dora');
    const bad = await call(registry.url, 'GET', '/api/v1/users/current', { cookie: session.cookie, authorization: basic('dora', 'wrong') });
    assert.equal(bad.status, 401);
    const forged = await call(registry.url, 'GET', '/api/v1/users/current', { cookie: 'wharf_session=forged-value' });
    assert.equal(forged.status, 401, 'an unknown cookie is nobody');
  });

  it('disabling a user ends their session at once', async () => {
    const dora = await login(registry.url, 'dora', 'Dora-Passw0rd-1');
    secrets.push(dora.cookie.split('=')[1] as string, dora.csrf);
    assert.equal((await call(registry.url, 'GET', '/api/v1/users/current', { cookie: dora.cookie })).status, 200);
    assert.equal((await call(registry.url, 'PATCH', '/api/v1/users/dora', { authorization: admin }, { disabled: true })).status, 200);
    assert.equal((await call(registry.url, 'GET', '/api/v1/users/current', { cookie: dora.cookie })).status, 401);
    assert.equal((await call(registry.url, 'GET', '/_ext/ui/session', { cookie: dora.cookie })).status, 401);
  });

  it('logout needs the CSRF token, then the session is dead on every node (it is in the database)', async () => {
    const s = await login(registry.url, 'admin', ADMIN_PASSWORD);
    secrets.push(s.cookie.split('=')[1] as string, s.csrf);
    assert.equal((await call(registry.url, 'DELETE', '/_ext/ui/session', { cookie: s.cookie })).status, 403);
    assert.equal((await call(registry.url, 'GET', '/api/v1/users/current', { cookie: s.cookie })).status, 200, 'a forged logout did nothing');
    const out = await call(registry.url, 'DELETE', '/_ext/ui/session', { cookie: s.cookie, 'x-csrf-token': s.csrf });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^wharf_session=; .*Max-Age=0/);
    assert.equal((await call(registry.url, 'GET', '/api/v1/users/current', { cookie: s.cookie })).status, 401);
    assert.equal((await call(registry.url, 'GET', '/_ext/ui/session', { cookie: s.cookie })).status, 401);
  });

  it(`writes no password, cookie or CSRF token to the log (${dbName})`, () => {
    const text = logs.text();
    assert.match(text, /\/_ext\/ui\/session/, 'the requests were logged');
    for (const secret of secrets) assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 4)}…) is in the log`);
  });
});

describe('behind https', () => {
  let registry: TestRegistry;
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('sqlite');
    registry = await bootRegistry(db, { server: { trustProxy: true, publicUrl: 'https://registry.example.test' } });
  });
  after(async () => {
    await registry?.close();
    await db?.drop();
  });

  it('sets the __Host- cookie with Secure, and that cookie authenticates the API', async () => {
    const s = await login(registry.url, 'admin', ADMIN_PASSWORD);
    assert.match(s.setCookie, /^__Host-wharf_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800; Secure$/);
    const me = await call(registry.url, 'GET', '/api/v1/users/current', { cookie: s.cookie });
    assert.equal(me.status, 200);
    assert.equal(me.body.subject, 'admin');
  });
});
