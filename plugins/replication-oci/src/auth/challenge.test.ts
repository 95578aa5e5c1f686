import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenges, pickChallenge } from './challenge.js';
import { mergeScopes, parseScopes, scopeKey } from './scopes.js';
import { refreshTime, TokenCache } from './token-cache.js';

describe('WWW-Authenticate parsing', () => {
  it('reads a Bearer challenge whose scope holds commas, and the error parameter', () => {
    const [c] = parseChallenges('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull,push",error="insufficient_scope"');
    assert.deepEqual(c, {
      scheme: 'bearer',
      params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:team/app:pull,push', error: 'insufficient_scope' },
    });
  });

  it('reads several challenges, unquoted values and escapes, and prefers Bearer', () => {
    const all = parseChallenges(['Basic realm="basic-realm"', 'Bearer realm=https://h/t, service="a\\"b"']);
    assert.deepEqual(all.map((c) => c.scheme), ['basic', 'bearer']);
    assert.equal(all[1]?.params['realm'], 'https://h/t');
    assert.equal(all[1]?.params['service'], 'a"b');
    assert.equal(pickChallenge(all)?.scheme, 'bearer');
    assert.equal(pickChallenge(parseChallenges('Basic realm="x", Negotiate'))?.scheme, 'basic');
    assert.equal(pickChallenge(parseChallenges('Negotiate')), undefined);
    assert.deepEqual(parseChallenges(undefined), []);
  });
});

describe('scopes', () => {
  it('parses space-separated scopes with host:port names and merges them by resource', () => {
    const parsed = parseScopes('repository:localhost:5000/app:pull repository:team/app:push registry:catalog:*');
    assert.deepEqual(parsed[0], { type: 'repository', name: 'localhost:5000/app', actions: ['pull'] });
    const merged = mergeScopes(parsed, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    assert.equal(scopeKey(merged), 'registry:catalog:* repository:localhost:5000/app:pull repository:team/app:pull,push');
  });
});

describe('token cache', () => {
  it('reuses a token until shortly before it expires, and fetches it once for concurrent callers', async () => {
    let now = 1_000_000;
    const cache = new TokenCache(() => now);
    let fetched = 0;
    const fetch = async () => ({ token: `t${++fetched}`, refreshAt: refreshTime(now, 300) });
    assert.deepEqual(await Promise.all([cache.get('k', fetch), cache.get('k', fetch)]), ['t1', 't1']);
    now += 269_000;
    assert.equal(await cache.get('k', fetch), 't1');
    now += 2_000; // within 30 s of expiry
    assert.equal(await cache.get('k', fetch), 't2');
    cache.delete('k');
    assert.equal(await cache.get('k', fetch), 't3');
    // A 60 s default when expires_in is absent, refreshed 12 s early.
    assert.equal(refreshTime(0, undefined), 48_000);
  });
});
