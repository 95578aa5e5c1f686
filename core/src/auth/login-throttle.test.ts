import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginThrottle } from './login-throttle.js';

describe('failed-login slowdown', async () => {
  it('doubles the delay with each failure, up to the cap', async () => {
    let clock = 0;
    const t = new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 1000, halfLifeMs: 60_000, now: () => clock });
    const delays = [];
    for (let i = 0; i < 6; i++) {
      delays.push(await t.delayFor('alice', '10.0.0.1'));
      await t.recordFailure('alice', '10.0.0.1');
    }
    assert.deepEqual(delays, [0, 100, 200, 400, 800, 1000]);
  });

  it('slows the attempt right after a single failure (its score has decayed a little)', async () => {
    let clock = 0;
    const t = new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 5000, halfLifeMs: 60_000, now: () => clock });
    await t.recordFailure('alice', '10.0.0.1');
    clock += 5;
    assert.equal(await t.delayFor('alice', '10.0.0.1'), 100);
    clock += 59_000;
    assert.ok((await t.delayFor('alice', '10.0.0.1')) > 0, 'just over half a failure still waits');
    clock += 61_000;
    assert.equal(await t.delayFor('alice', '10.0.0.1'), 0, 'a quarter of one does not');
  });

  it('decays over time, so nobody is locked out for good', async () => {
    let clock = 0;
    const t = new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 5000, halfLifeMs: 10_000, now: () => clock });
    for (let i = 0; i < 5; i++) await t.recordFailure('alice', '10.0.0.1');
    assert.equal(await t.delayFor('alice', '10.0.0.1'), 1600);
    clock += 10_000;
    assert.equal(await t.delayFor('alice', '10.0.0.1'), Math.round(100 * 2 ** 1.5));
    clock += 60_000;
    assert.equal(await t.delayFor('alice', '10.0.0.1'), 0);
  });

  it('counts per user and per client address; success resets only the user', async () => {
    const t = new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 5000 });
    for (let i = 0; i < 3; i++) await t.recordFailure('alice', '10.0.0.1');
    assert.equal(await t.delayFor('alice', '192.168.0.9'), 400, 'the user is slowed from anywhere');
    assert.equal(await t.delayFor('bob', '10.0.0.1'), 400, 'the address is slowed for any user');
    assert.equal(await t.delayFor('bob', '192.168.0.9'), 0);
    await t.recordSuccess('alice');
    assert.equal(await t.delayFor('alice', '192.168.0.9'), 0);
    assert.equal(await t.delayFor('carol', '10.0.0.1'), 400);
  });

  it('stays bounded when user names are sprayed', async () => {
    const t = new LoginThrottle({ maxEntries: 50 });
    for (let i = 0; i < 1000; i++) await t.recordFailure(`user${i}`, `10.0.${i % 256}.1`);
    assert.equal(await t.delayFor('user0', '172.16.0.1'), 0, 'the oldest entries were evicted');
    assert.ok((await t.delayFor('user999', '172.16.0.1')) > 0);
  });

  it('counts every spelling of a user name as the provider matches it', async () => {
    const t = new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 5000 });
    await t.recordFailure('ALICE', '10.0.0.1');
    await t.recordFailure('alice ', '10.0.0.2');
    await t.recordFailure('\uFF41lice', '10.0.0.3');
    assert.equal(await t.delayFor('alice', '192.168.0.9'), 400);
  });

  it('bounds concurrent checks per user and per address, and frees slots on release', async () => {
    const t = new LoginThrottle({ perUserConcurrency: 2, perAddressConcurrency: 3 });
    const a = await t.enter('alice', '10.0.0.1');
    const b = await t.enter('ALICE', '10.0.0.2');
    const c = await t.enter('alice', '10.0.0.3');
    assert.ok(a.ok && b.ok);
    assert.ok(!c.ok && c.retryAfterSeconds >= 1);
    const d = await t.enter('bob', '10.0.0.1');
    const e = await t.enter('carol', '10.0.0.1');
    const f = await t.enter('dave', '10.0.0.1');
    assert.ok(d.ok && e.ok && !f.ok, 'three from one address, the fourth waits');
    if (a.ok) await a.release();
    assert.ok((await t.enter('alice', '10.0.0.9')).ok);
  });
});
