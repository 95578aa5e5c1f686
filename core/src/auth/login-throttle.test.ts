import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoginThrottle } from './login-throttle.js';

describe('failed-login slowdown', () => {
  it('doubles the delay with each failure, up to the cap', () => {
    let clock = 0;
    const t = new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 1000, halfLifeMs: 60_000, now: () => clock });
    const delays = [];
    for (let i = 0; i < 6; i++) {
      delays.push(t.delayFor('alice', '10.0.0.1'));
      t.recordFailure('alice', '10.0.0.1');
    }
    assert.deepEqual(delays, [0, 100, 200, 400, 800, 1000]);
  });

  it('decays over time, so nobody is locked out for good', () => {
    let clock = 0;
    const t = new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 5000, halfLifeMs: 10_000, now: () => clock });
    for (let i = 0; i < 5; i++) t.recordFailure('alice', '10.0.0.1');
    assert.equal(t.delayFor('alice', '10.0.0.1'), 1600);
    clock += 10_000;
    assert.equal(t.delayFor('alice', '10.0.0.1'), Math.round(100 * 2 ** 1.5));
    clock += 60_000;
    assert.equal(t.delayFor('alice', '10.0.0.1'), 0);
  });

  it('counts per user and per client address; success resets only the user', () => {
    const t = new LoginThrottle({ baseDelayMs: 100, maxDelayMs: 5000 });
    for (let i = 0; i < 3; i++) t.recordFailure('alice', '10.0.0.1');
    assert.equal(t.delayFor('alice', '192.168.0.9'), 400, 'the user is slowed from anywhere');
    assert.equal(t.delayFor('bob', '10.0.0.1'), 400, 'the address is slowed for any user');
    assert.equal(t.delayFor('bob', '192.168.0.9'), 0);
    t.recordSuccess('alice');
    assert.equal(t.delayFor('alice', '192.168.0.9'), 0);
    assert.equal(t.delayFor('carol', '10.0.0.1'), 400);
  });

  it('stays bounded when user names are sprayed', () => {
    const t = new LoginThrottle({ maxEntries: 50 });
    for (let i = 0; i < 1000; i++) t.recordFailure(`user${i}`, `10.0.${i % 256}.1`);
    assert.equal(t.delayFor('user0', '172.16.0.1'), 0, 'the oldest entries were evicted');
    assert.ok(t.delayFor('user999', '172.16.0.1') > 0);
  });
});
