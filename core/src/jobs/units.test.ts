import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from './backoff.js';
import { checkCron, nextTick } from './cron.js';
import { jobId, parseJobId } from './redis/keys.js';

describe('backoffDelay', () => {
  it('starts at backoffMs, doubles, and stops at the cap', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 1000, 5000)), [1000, 2000, 4000, 5000, 5000]);
    assert.equal(backoffDelay(500, 1000, 300_000), 300_000, 'no overflow for huge attempt counts');
    assert.equal(backoffDelay(3, 0, 1000), 0);
  });
});

describe('cron', () => {
  it('takes 5 fields, or 6 with seconds first, in UTC', () => {
    const t = Date.UTC(2025, 0, 1, 10, 7, 30, 500);
    assert.equal(nextTick('*/15 * * * *', t), Date.UTC(2025, 0, 1, 10, 15, 0));
    assert.equal(nextTick('* * * * * *', t), Date.UTC(2025, 0, 1, 10, 7, 31));
    assert.equal(nextTick('0 3 * * *', t), Date.UTC(2025, 0, 2, 3, 0, 0));
    // Strictly after: a tick exactly at `after` is not returned again.
    assert.equal(nextTick('* * * * * *', Date.UTC(2025, 0, 1, 0, 0, 1)), Date.UTC(2025, 0, 1, 0, 0, 2));
  });
  it('names what is wrong', () => {
    assert.throws(() => checkCron('* * *'), /must have 5 fields \(or 6 with seconds first\), not 3/);
    assert.throws(() => checkCron('61 * * * *'), /cron "61 \* \* \* \*" is invalid/);
    checkCron('0 0 * * 1-5');
  });
});

describe('redis job ids', () => {
  it('name the type before the first colon', () => {
    assert.equal(jobId('gc.run', '12'), 'gc.run:12');
    assert.deepEqual(parseJobId('tick:repeat:every:1700000000000'), { type: 'tick', bullId: 'repeat:every:1700000000000' });
    assert.equal(parseJobId('nocolon'), undefined);
    assert.equal(parseJobId(':1'), undefined);
    assert.equal(parseJobId('t:'), undefined);
  });
});
