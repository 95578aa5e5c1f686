import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineEventType, type EventDraft } from '@wharf/sdk';
import { MAX_PENDING_BATCHES, PullRecorder } from './pull-recorder.js';

// The pull buffer on its own (the database side is in events.test.ts): writes one at a time, in
// batches of at most batchSize, and bounded memory while writes hang.

const pulled = defineEventType<{ n: number }>('test.pulled');
const pull = (n: number): EventDraft<unknown> => ({ type: pulled, partition: 'r', data: { n } });

describe('the pull buffer', () => {
  it('writes full batches at once and the rest after the interval, one write at a time; drops pulls beyond its bound while writes hang, and says how many', async () => {
    const written: number[][] = [];
    let release: () => void = () => undefined;
    let hang = true;
    let running = 0;
    let dropped = 0;
    const recorder = new PullRecorder({
      batchSize: 2,
      flushMs: 20,
      write: async (drafts) => {
        running += 1;
        assert.equal(running, 1, 'one write at a time');
        if (hang) await new Promise<void>((resolve) => (release = resolve));
        written.push(drafts.map((d) => (d.data as { n: number }).n));
        running -= 1;
      },
      onError: (err) => { throw err; },
      onDropped: (n) => { dropped += n; },
    });
    const bound = MAX_PENDING_BATCHES * 2;
    for (let n = 0; n < bound + 3; n++) assert.equal(recorder.record(pull(n)), undefined);
    await sleep(50);
    assert.equal(written.length, 0, 'the first write still hangs');
    hang = false;
    release();
    await sleep(50);
    recorder.record(pull(100));
    await recorder.drain();
    assert.equal(written.flat().length, bound + 1, 'every pull within the bound, and the one after the writes caught up');
    assert.ok(written.every((b) => b.length <= 2), 'batches of at most batchSize');
    assert.deepEqual(written.flat().slice(0, bound), Array.from({ length: bound }, (_, n) => n), 'in order');
    assert.equal(dropped, 3, 'the three beyond the bound were dropped and reported');
  });
});
