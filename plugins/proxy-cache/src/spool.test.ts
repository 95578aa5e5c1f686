import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable, type Readable as ReadableType } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import type { Digest } from '@wharf/sdk';
import { SpoolFlight } from './spool.js';

const MIB = 1024 * 1024;
const DIGEST = `sha256:${'0'.repeat(64)}` as Digest;

async function collect(stream: ReadableType): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Feeds `bytes` through the flight's tee in 64 KiB chunks (a socket's size) and drains it. */
async function feed(spool: SpoolFlight, bytes: Buffer): Promise<void> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 64 * 1024) chunks.push(bytes.subarray(i, i + 64 * 1024));
  await pipeline(Readable.from(chunks), spool.tee(() => undefined), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) void chunk;
  });
}

describe('spool flight', () => {
  let dir = '';
  after(() => rm(dir, { recursive: true, force: true }));

  it('serves a reader that keeps up and one that starts late the same bytes, the last byte only after the commit', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-spool-'));
    const bytes = randomBytes(9 * MIB + 123);
    const spool = await SpoolFlight.create(DIGEST, bytes.length, path.join(dir, 'blob'));
    const early = await spool.attach();
    assert.ok(early);
    const earlyBytes = collect(early);
    await feed(spool, bytes);
    // More than the in-memory window was written: a late reader reads the start from the file.
    const late = await spool.attach();
    assert.ok(late);
    const lateBytes = collect(late);
    let lateDone = false;
    void lateBytes.then(() => (lateDone = true));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(lateDone, false, 'no reader ends before the commit');
    assert.equal(spool.written, bytes.length);
    await spool.settle(undefined);
    assert.ok((await earlyBytes).equals(bytes));
    assert.ok((await lateBytes).equals(bytes));
    spool.finish();
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(stat(path.join(dir, 'blob')), { code: 'ENOENT' });
  });

  it('cuts every reader short of the last byte when the commit fails', async () => {
    const bytes = randomBytes(2 * MIB);
    const spool = await SpoolFlight.create(DIGEST, bytes.length, path.join(dir, 'bad'));
    const reader = await spool.attach();
    assert.ok(reader);
    let received = 0;
    reader.on('data', (chunk: Buffer) => (received += chunk.length));
    const ended = new Promise((resolve, reject) => reader.once('end', resolve).once('error', reject));
    await feed(spool, bytes);
    await new Promise((r) => setTimeout(r, 50));
    await spool.settle(new Error('content has the wrong digest'));
    await assert.rejects(ended, /wrong digest/);
    assert.ok(received < bytes.length, `${received} of ${bytes.length} bytes`);
    spool.finish();
  });

  it('refuses more bytes than announced', async () => {
    const spool = await SpoolFlight.create(DIGEST, 10, path.join(dir, 'long'));
    await assert.rejects(feed(spool, randomBytes(11)), /more than the 10 bytes/);
    await spool.settle(new Error('too long'));
    spool.finish();
  });

  it('keeps at most 64 MiB of recent chunks over all downloads; past that, readers read the file', async () => {
    const bytes = randomBytes(4 * MIB);
    const flights: SpoolFlight[] = [];
    // Twenty downloads of 4 MiB at once, none finished: 80 MiB would be held without the bound.
    for (let i = 0; i < 20; i++) {
      const spool = await SpoolFlight.create(DIGEST, bytes.length, path.join(dir, `many-${i}`));
      flights.push(spool);
      await feed(spool, bytes);
      assert.ok(SpoolFlight.recentBytesHeld <= 64 * MIB, `${SpoolFlight.recentBytesHeld} bytes held after ${i + 1} downloads`);
    }
    assert.ok(SpoolFlight.recentBytesHeld >= 60 * MIB, 'the first downloads keep their chunks');
    // The last download kept nothing in memory; its reader gets every byte from the file.
    const last = flights.at(-1) as SpoolFlight;
    const reader = await last.attach();
    assert.ok(reader);
    const read = collect(reader);
    for (const spool of flights) await spool.settle(undefined);
    assert.ok((await read).equals(bytes));
    for (const spool of flights) spool.finish();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(SpoolFlight.recentBytesHeld, 0, 'finished downloads give their chunks back');
  });
});
