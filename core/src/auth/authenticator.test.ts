import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { RegistryError, type Credentials, type RequestInfo } from '@wharf/sdk';
import { createHooks } from '../hooks/index.js';
import { ActivePrincipals } from './active-principals.js';
import { Authenticator, RefusalTiming } from './authenticator.js';
import { CredentialCache } from './credential-cache.js';
import { LoginThrottle } from './login-throttle.js';

const info = (ip = '10.1.2.3'): RequestInfo => ({ requestId: 'r1', ip, method: 'GET', path: '/service/token', userAgent: undefined });
const basic = (username: string, password: string): Credentials => ({ kind: 'basic', username, password });

function setup(options: { ttl?: number; provider?: boolean } = {}) {
  const hooks = createHooks();
  const calls: string[] = [];
  if (options.provider !== false) {
    hooks.auth.authenticate.tapPromise('static', async (creds) => {
      if (creds.kind !== 'basic') return undefined;
      calls.push(creds.username);
      if (creds.username === 'broken') throw new Error('ldap is down');
      if (creds.password !== 's3cret-pw') throw new RegistryError('UNAUTHORIZED', 'bad password');
      return { subject: creds.username, kind: 'user', provider: 'static', groups: [], admin: false };
    });
    hooks.auth.principal.tapPromise('groups', async (p) => ({ ...p, groups: ['devs'] }));
  }
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, cb) => void (lines.push(String(chunk)), cb()) }));
  let clock = 1_000_000;
  const waits: number[] = [];
  const auth = new Authenticator({
    hooks: hooks.auth,
    logger,
    cache: new CredentialCache(options.ttl ?? 30, 100, () => clock),
    throttle: new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 2000, now: () => clock }),
    wait: async (ms) => void waits.push(ms),
  });
  return { auth, calls, lines, waits, tick: (ms: number) => (clock += ms) };
}

describe('authenticator', () => {
  it('answers repeated valid credentials from the cache, enriched, without asking the provider again', async () => {
    const { auth, calls } = setup();
    const first = await auth.authenticate(basic('alice', 's3cret-pw'), info());
    const second = await auth.authenticate(basic('alice', 's3cret-pw'), info('10.9.9.9'));
    assert.ok(first.ok && second.ok);
    assert.deepEqual(second.principal.groups, ['devs']);
    assert.deepEqual(calls, ['alice']);
  });

  it('checks a burst of identical credentials once, and still reports each failure', async () => {
    const { auth, calls, lines } = setup();
    const ok = await Promise.all(Array.from({ length: 10 }, () => auth.authenticate(basic('alice', 's3cret-pw'), info())));
    assert.ok(ok.every((r) => r.ok));
    assert.deepEqual(calls, ['alice']);
    const bad = await Promise.all(Array.from({ length: 3 }, () => auth.authenticate(basic('bob', 'nope'), info())));
    assert.ok(bad.every((r) => !r.ok));
    assert.deepEqual(calls, ['alice', 'bob']);
    assert.equal(lines.length, 3);
  });

  it('never serves a wrong password from the cache: the provider is asked every time', async () => {
    const { auth, calls } = setup();
    assert.ok((await auth.authenticate(basic('alice', 's3cret-pw'), info())).ok);
    for (let i = 0; i < 3; i++) assert.equal((await auth.authenticate(basic('alice', 'wrong'), info())).ok, false);
    assert.equal((await auth.authenticate(basic('alice', 's3cret-pw2'), info())).ok, false);
    assert.deepEqual(calls, ['alice', 'alice', 'alice', 'alice', 'alice']);
  });

  it('forgets cached credentials after credentialCacheSeconds, and caches nothing with 0', async () => {
    const { auth, calls, tick } = setup();
    await auth.authenticate(basic('alice', 's3cret-pw'), info());
    tick(31_000);
    await auth.authenticate(basic('alice', 's3cret-pw'), info());
    assert.equal(calls.length, 2);
    const off = setup({ ttl: 0 });
    await off.auth.authenticate(basic('alice', 's3cret-pw'), info());
    await off.auth.authenticate(basic('alice', 's3cret-pw'), info());
    assert.equal(off.calls.length, 2);
  });

  it('slows repeated failures down and logs each one without the password', async () => {
    const { auth, waits, lines } = setup();
    for (let i = 0; i < 4; i++) await auth.authenticate(basic('mallory', 'guess-number-' + i), info());
    assert.deepEqual(waits, [100, 200, 400]);
    assert.equal(lines.length, 4);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.equal(entry.msg, 'login failed');
      assert.equal(entry.user, 'mallory');
      assert.equal(entry.ip, '10.1.2.3');
      assert.ok(!line.includes('guess-number'), line);
    }
    // The real user still gets in (after the per-address delay), and then from the cache at once.
    const ok = await auth.authenticate(basic('alice', 's3cret-pw'), info());
    assert.ok(ok.ok);
    assert.equal(waits.at(-1), 800);
    const count = waits.length;
    assert.ok((await auth.authenticate(basic('alice', 's3cret-pw'), info())).ok);
    assert.equal(waits.length, count, 'a cache hit does not wait');
  });

  it('passes provider outages through instead of calling them bad passwords', async () => {
    const { auth, lines } = setup();
    await assert.rejects(auth.authenticate(basic('broken', 's3cret-pw'), info()), /ldap is down/);
    assert.equal(lines.length, 0);
  });

  it('gives the anonymous principal without credentials, and ignores credentials when no provider is loaded', async () => {
    const { auth } = setup();
    const anon = await auth.authenticate({ kind: 'anonymous' }, info());
    assert.ok(anon.ok && anon.principal.kind === 'anonymous');
    const open = setup({ provider: false });
    const r = await open.auth.authenticate(basic('anyone', 'anything'), info());
    assert.ok(r.ok && r.principal.kind === 'anonymous');
  });

  it('drops a cached login once auth.active says the account changed, and asks the provider again', async () => {
    const hooks = createHooks();
    let password = 'first-pw';
    let active = true;
    const calls: string[] = [];
    hooks.auth.authenticate.tapPromise('static', async (creds) => {
      if (creds.kind !== 'basic') return undefined;
      calls.push(creds.password);
      if (creds.password !== password) throw new RegistryError('UNAUTHORIZED', 'bad password');
      return { subject: creds.username, kind: 'user', provider: 'static', groups: [], admin: false };
    });
    hooks.auth.active.tapPromise('static', async () => active);
    const auth = new Authenticator({
      hooks: hooks.auth,
      logger: pino({ level: 'silent' }),
      cache: new CredentialCache(30, 100),
      throttle: new LoginThrottle({ baseDelayMs: 0 }),
      active: new ActivePrincipals({ hooks: hooks.auth, ttlSeconds: 0 }),
      wait: async () => undefined,
    });
    assert.ok((await auth.authenticate(basic('kim', 'first-pw'), info())).ok);
    assert.ok((await auth.authenticate(basic('kim', 'first-pw'), info())).ok);
    assert.deepEqual(calls, ['first-pw'], 'the second login came from the cache');
    password = 'second-pw';
    active = false; // e.g. the password changed since the login was cached
    assert.equal((await auth.authenticate(basic('kim', 'first-pw'), info())).ok, false);
    assert.deepEqual(calls, ['first-pw', 'first-pw']);
    active = true;
    assert.ok((await auth.authenticate(basic('kim', 'second-pw'), info())).ok);
  });
});

describe('refusal timing', () => {
  it('pads a refusal to the slowest recent one, at least the floor, at most the cap', () => {
    const t = new RefusalTiming(100, 1000);
    assert.equal(t.padFor(10), 90, 'the floor');
    assert.equal(t.padFor(300), 0, 'a slow refusal waits for nothing');
    assert.equal(t.padFor(10), 290, 'later quick refusals take as long as the slow one');
    assert.equal(t.padFor(5000), 0);
    assert.equal(t.padFor(0), 1000, 'never more than the cap');
  });
});
