import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { createThrottle, isUnlimited } from './throttle.js';

const KIB = 1024;

function chunksOf(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function collect(source: Readable, throttle: NodeJS.ReadWriteStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  });
  await pipeline(source, throttle, sink);
  return Buffer.concat(parts);
}

describe('createThrottle', () => {
  it('moves 512 KiB at 256 KiB/s in about 2 s, bytes unchanged', async () => {
    const data = randomBytes(512 * KIB);
    const started = performance.now();
    const out = await collect(Readable.from(chunksOf(data, 64 * KIB)), createThrottle({ kibPerSecond: 256 }));
    const seconds = (performance.now() - started) / 1000;
    assert.ok(out.equals(data), 'bytes changed');
    assert.ok(seconds >= 1.6 && seconds <= 3, `took ${seconds.toFixed(2)} s`);
  });

  it('handles chunks larger than the burst and tiny chunks alike', async () => {
    const data = randomBytes(200 * KIB);
    const chunks = [data.subarray(0, 1), data.subarray(1, 150 * KIB), ...chunksOf(data.subarray(150 * KIB), 7)];
    const out = await collect(Readable.from(chunks), createThrottle({ kibPerSecond: 4096 }));
    assert.ok(out.equals(data));
  });

  it('returns a pass-through for 0 and -1', async () => {
    for (const kibPerSecond of [0, -1]) {
      assert.ok(isUnlimited(kibPerSecond));
      const throttle = createThrottle({ kibPerSecond });
      assert.ok(throttle instanceof PassThrough);
      const data = randomBytes(4 * 1024 * KIB);
      const started = performance.now();
      assert.ok((await collect(Readable.from(chunksOf(data, 64 * KIB)), throttle)).equals(data));
      assert.ok(performance.now() - started < 1000);
    }
  });

  it('rejects nonsense rates', () => {
    for (const kibPerSecond of [-2, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => createThrottle({ kibPerSecond }), RangeError);
    }
  });

  it('stops promptly when the signal aborts during a wait', async () => {
    const controller = new AbortController();
    const throttle = createThrottle({ kibPerSecond: 16, signal: controller.signal });
    const source = Readable.from(chunksOf(randomBytes(256 * KIB), 16 * KIB));
    setTimeout(() => controller.abort(), 200);
    const started = performance.now();
    await assert.rejects(collect(source, throttle), { name: 'AbortError' });
    assert.ok(performance.now() - started < 1000, 'did not stop promptly');
    assert.ok(throttle.destroyed);
  });

  it('refuses to start with an already aborted signal', async () => {
    const throttle = createThrottle({ kibPerSecond: 16, signal: AbortSignal.abort() });
    await assert.rejects(collect(Readable.from([Buffer.alloc(10)]), throttle), { name: 'AbortError' });
  });

  it('keeps backpressure as a plain pass-through does, holding at most one chunk beyond its buffers', async () => {
    const chunk = Buffer.alloc(64 * KIB);
    // A producer that stops when write() returns false, against a consumer that never reads.
    async function fill(stream: Duplex): Promise<{ writes: number; held: number }> {
      let writes = 1;
      while (stream.write(chunk)) {
        writes += 1;
        assert.ok(writes < 10, 'write never returned false');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { writes, held: stream.readableLength + stream.writableLength };
    }
    const throttle = createThrottle({ kibPerSecond: 100 * 1024 });
    const plain = await fill(new PassThrough());
    const throttled = await fill(throttle);
    assert.deepEqual(throttled, plain);
    assert.ok(throttle.readableLength <= throttle.readableHighWaterMark + chunk.length);
    // Reading drains it, and the writable side then asks for more.
    const drained = once(throttle, 'drain');
    throttle.resume();
    await drained;
    throttle.destroy();
  });
});
