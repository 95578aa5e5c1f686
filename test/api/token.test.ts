import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOciError } from './support/client.js';
import { sha256 } from './support/oci.js';
import {
  basic,
  bearer,
  claimsOf,
  fetchToken,
  getToken,
  pushImage,
  startTokenRegistry,
  type TokenRegistry,
} from './support/token-kit.js';

/**
 * Docker token auth over real HTTP: challenges naming the exact scope, the token endpoint (GET,
 * docker login, OAuth2 POST), grants as the intersection of asked and allowed, Basic on /v2/,
 * the credential cache and the failed-login slowdown.
 */

const challengeOf = (res: Response) => res.headers.get('www-authenticate') ?? '';

describe('token auth: challenges and the token endpoint', () => {
  let reg: TokenRegistry;
  let realm: string;
  before(async () => {
    reg = await startTokenRegistry();
    realm = `${reg.url}/service/token`;
  });
  after(() => reg.close());

  it('challenges /v2/ without credentials, like distribution, and lets any valid token in', async () => {
    const res = await fetch(`${reg.url}/v2/`);
    await assertOciError(res, 401, 'UNAUTHORIZED');
    assert.equal(challengeOf(res), `Bearer realm="${realm}",service="wharf"`);
    const anon = await getToken(reg.url);
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: { authorization: bearer(anon.token) } })).status, 200);
  });

  it('names exactly the scope each request needs, including the source of a cross-repository mount', async () => {
    const cases: [string, string, string][] = [
      ['GET', '/v2/alice/app/manifests/latest', 'repository:alice/app:pull'],
      ['HEAD', '/v2/alice/app/blobs/' + sha256('x'), 'repository:alice/app:pull'],
      ['DELETE', '/v2/alice/app/manifests/' + sha256('x'), 'repository:alice/app:delete'],
      ['POST', `/v2/alice/app/blobs/uploads/?mount=${sha256('x')}&from=public/base`, 'repository:alice/app:push repository:public/base:pull'],
      ['GET', '/v2/_catalog', 'registry:catalog:*'],
    ];
    for (const [method, path, scope] of cases) {
      const res = await fetch(reg.url + path, { method });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(challengeOf(res), `Bearer realm="${realm}",service="wharf",scope="${scope}"`, `${method} ${path}`);
      if (method !== 'HEAD') {
        const body = (await res.json()) as { errors: { code: string; detail: { type: string; name: string; action: string }[] }[] };
        assert.deepEqual(body.errors[0]?.detail.map((d) => `${d.type}:${d.name}:${d.action}`), scope.split(' '));
      }
    }
  });

  it('issues a token with repeated and space-separated scopes, and the token opens exactly those', async () => {
    const t = await getToken(reg.url, { user: 'alice', scopes: ['repository:alice/app:pull,push repository:public/base:pull', 'repository:alice/app:delete'] });
    assert.equal(t.token, t.access_token);
    assert.equal(t.expires_in, 300);
    assert.ok(Math.abs(Date.parse(t.issued_at) - Date.now()) < 5000);
    const claims = claimsOf(t.token);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.aud, 'wharf');
    assert.equal(claims.iss, 'wharf-token-issuer');
    assert.deepEqual(claims.access, [
      { type: 'repository', name: 'alice/app', actions: ['pull', 'push', 'delete'] },
      { type: 'repository', name: 'public/base', actions: ['pull'] },
    ]);
    assert.equal(await pushImage(reg.url, 'alice/app', 'v1', bearer(t.token)), 201);
    const pulled = await fetch(`${reg.url}/v2/alice/app/manifests/v1`, { headers: { authorization: bearer(t.token) } });
    assert.equal(pulled.status, 200);
  });

  it('grants the intersection: push asked where only pull is allowed gives a token without push, which cannot push', async () => {
    const t = await getToken(reg.url, { user: 'bob', scopes: ['repository:public/base:pull,push', 'repository:alice/app:pull'] });
    assert.deepEqual(claimsOf(t.token).access, [{ type: 'repository', name: 'public/base', actions: ['pull'] }]);
    const res = await fetch(`${reg.url}/v2/public/base/blobs/uploads/`, { method: 'POST', headers: { authorization: bearer(t.token) } });
    await assertOciError(res, 401, 'UNAUTHORIZED');
    assert.ok(challengeOf(res).startsWith(`Bearer realm="${realm}",service="wharf",scope="repository:public/base:push",error="insufficient_scope",error_description="`), challengeOf(res));
  });

  it('refuses a token whose access claim names another repository', async () => {
    const t = await getToken(reg.url, { user: 'alice', scopes: ['repository:alice/app:pull'] });
    const res = await fetch(`${reg.url}/v2/alice/other/tags/list`, { headers: { authorization: bearer(t.token) } });
    await assertOciError(res, 401, 'UNAUTHORIZED');
    assert.match(challengeOf(res), /scope="repository:alice\/other:pull",error="insufficient_scope"$/);
  });

  it('gives the catalog to admins only', async () => {
    const root = await getToken(reg.url, { user: 'root', scopes: ['registry:catalog:*'] });
    assert.deepEqual(claimsOf(root.token).access, [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.equal((await fetch(`${reg.url}/v2/_catalog`, { headers: { authorization: bearer(root.token) } })).status, 200);
    const alice = await getToken(reg.url, { user: 'alice', scopes: ['registry:catalog:*'] });
    assert.deepEqual(claimsOf(alice.token).access, []);
    assert.equal((await fetch(`${reg.url}/v2/_catalog`, { headers: { authorization: bearer(alice.token) } })).status, 401);
  });

  it('answers docker login (no scope, offline_token) with an empty grant and a refresh token; a wrong password is a 401', async () => {
    const query = { account: 'alice', client_id: 'docker', offline_token: 'true' };
    const t = await getToken(reg.url, { user: 'alice', query });
    assert.deepEqual(claimsOf(t.token).access, []);
    assert.ok(t.refresh_token);
    const bad = await fetchToken(reg.url, { user: 'alice', password: 'nope', query, ip: '198.51.100.7' });
    await assertOciError(bad, 401, 'UNAUTHORIZED');
    const anon = await getToken(reg.url, { query: { offline_token: 'true' }, scopes: ['repository:public/base:pull,push'] });
    assert.equal(anon.refresh_token, undefined);
    assert.equal(claimsOf(anon.token).sub, '');
    assert.deepEqual(claimsOf(anon.token).access, [{ type: 'repository', name: 'public/base', actions: ['pull'] }]);
  });

  it('refuses another service with 400', async () => {
    const u = new URL('/service/token?service=other&scope=repository:public/base:pull', reg.url);
    await assertOciError(await fetch(u), 400, 'UNSUPPORTED');
  });

  it('speaks the OAuth2 form: password grant with a refresh token, then the refresh grant', async () => {
    const post = (form: Record<string, string>) =>
      fetch(`${reg.url}/service/token`, { method: 'POST', body: new URLSearchParams(form), headers: { 'x-forwarded-for': '198.51.100.20' } });
    const res = await post({ grant_type: 'password', username: 'alice', password: 'alice-pw', service: 'wharf', client_id: 'test', access_type: 'offline', scope: 'repository:alice/app:pull' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; refresh_token: string; scope: string };
    assert.equal(body.scope, 'repository:alice/app:pull');
    assert.ok(body.refresh_token);
    const refreshed = await post({ grant_type: 'refresh_token', refresh_token: body.refresh_token, service: 'wharf', client_id: 'test', scope: 'repository:alice/app:push' });
    assert.equal(refreshed.status, 200);
    const second = (await refreshed.json()) as { access_token: string; refresh_token?: string };
    assert.equal(claimsOf(second.access_token).sub, 'alice');
    assert.deepEqual(claimsOf(second.access_token).access, [{ type: 'repository', name: 'alice/app', actions: ['push'] }]);
    // A refresh token is no access token, an access token no refresh token.
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: { authorization: bearer(body.refresh_token) } })).status, 401);
    await assertOciError(await post({ grant_type: 'refresh_token', refresh_token: body.access_token, service: 'wharf' }), 401, 'UNAUTHORIZED');
    await assertOciError(await post({ grant_type: 'password', username: 'alice', password: 'wrong', service: 'wharf' }), 401, 'UNAUTHORIZED');
    await assertOciError(await post({ grant_type: 'client_credentials' }), 400, 'UNSUPPORTED');
  });

  it('accepts Basic credentials directly on /v2/, checked with RBAC, and challenges bad ones', async () => {
    const alice = { authorization: basic('alice'), 'x-forwarded-for': '198.51.100.30' };
    assert.equal(await pushImage(reg.url, 'alice/basic', 'v1', basic('alice')), 201);
    assert.equal((await fetch(`${reg.url}/v2/alice/basic/manifests/v1`, { headers: alice })).status, 200);
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: alice })).status, 200);
    const bob = await fetch(`${reg.url}/v2/alice/basic/manifests/v1`, { headers: { authorization: basic('bob') } });
    await assertOciError(bob, 403, 'DENIED');
    const wrong = await fetch(`${reg.url}/v2/alice/basic/manifests/v1`, { headers: { authorization: basic('alice', 'bad'), 'x-forwarded-for': '198.51.100.31' } });
    await assertOciError(wrong, 401, 'UNAUTHORIZED');
    assert.equal(challengeOf(wrong), `Bearer realm="${realm}",service="wharf",scope="repository:alice/basic:pull"`);
  });

  it('answers repeated valid credentials from the cache; wrong passwords reach the provider every time', async () => {
    const fresh = await startTokenRegistry();
    try {
      // A CI burst: concurrent first requests share one provider check, later ones hit the cache.
      await Promise.all(Array.from({ length: 8 }, () => getToken(fresh.url, { user: 'alice', scopes: ['repository:alice/app:pull'] })));
      await getToken(fresh.url, { user: 'alice' });
      assert.deepEqual(fresh.calls, ['alice']);
      for (let i = 0; i < 2; i++) assert.equal((await fetchToken(fresh.url, { user: 'alice', password: 'wrong', ip: `203.0.113.${i}` })).status, 401);
      assert.deepEqual(fresh.calls, ['alice', 'alice', 'alice']);
    } finally {
      await fresh.close();
    }
  });

  it('slows repeated failed logins down without locking the real user out', async () => {
    const attempt = async (password: string, ip: string) => {
      const t0 = performance.now();
      const res = await fetchToken(reg.url, { user: 'carol', password, ip });
      return { status: res.status, ms: performance.now() - t0 };
    };
    const times = [];
    for (let i = 0; i < 3; i++) times.push(await attempt(`guess-${i}`, `192.0.2.${10 + i}`));
    assert.deepEqual(times.map((t) => t.status), [401, 401, 401]);
    // The first refusal waits only for the refusal floor (token.failedLoginMinMs, 250 ms).
    assert.ok(times[0]!.ms >= 240 && times[0]!.ms < 600, `first failure answered after the floor only (${times[0]!.ms} ms)`);
    assert.ok(times[2]!.ms >= 450, `third attempt waited (${times[2]!.ms} ms)`);
    // Another user from another address is not slowed; the target user is, but still gets in.
    const t0 = performance.now();
    assert.equal((await fetchToken(reg.url, { user: 'bob', ip: '192.0.2.100' })).status, 200);
    assert.ok(performance.now() - t0 < 200);
    const real = await attempt('carol-pw', '192.0.2.101');
    assert.equal(real.status, 200);
    assert.ok(real.ms >= 900, `the real user waited for the slowdown (${real.ms} ms)`);
  });
});
