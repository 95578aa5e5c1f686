import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Digest } from '@wharf/sdk';
import { collect, digestOf, runStorageConformance, streamOf } from '@wharf/sdk-testing';
import { FsStorageDriver } from './fs-driver.js';

const root = await mkdtemp(path.join(tmpdir(), 'wharf-fs-conformance-'));
runStorageConformance({
  name: 'fs driver conformance',
  create: async () => new FsStorageDriver({ root }),
  // Every upload the suite started was committed or aborted and every blob deleted: no file may
  // be left under the root (empty directories may stay), nor an upload directory.
  leftovers: async () => [
    ...(await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((entry) => !entry.isDirectory())
      .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name))),
    ...(await readdir(path.join(root, 'uploads'))).map((name) => `uploads/${name}/`),
  ],
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A driver over a fresh temp root, removed after `fn`. */
async function withDriver(fn: (driver: FsStorageDriver, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-fs-'));
  try {
    const driver = new FsStorageDriver({ root: dir });
    await driver.healthCheck();
    await fn(driver, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('fs driver specifics', () => {
  it('rejects upload ids that could escape the uploads directory, creating nothing', async () => {
    await withDriver(async (driver, dir) => {
      const outside = path.join(path.dirname(dir), `${path.basename(dir)}-escaped`);
      const bad = ['../../etc', '..', '../' + path.basename(outside), 'a/../../b12345678', 'abc/def12345', '%2e%2e%2fxxxxxx', 'short', '', 'x'.repeat(129), 'nul\0byte-id', 'dots.are.not.ok'];
      for (const id of bad) {
        await assert.rejects(driver.createUpload(id), TypeError, `createUpload(${JSON.stringify(id)})`);
        await assert.rejects(driver.append(id, { size: 0 }, streamOf(Buffer.from('x'))), TypeError);
        await assert.rejects(driver.uploadSize(id, { size: 0 }), TypeError);
        await assert.rejects(driver.readUpload(id, { size: 0 }), TypeError);
        await assert.rejects(driver.commit(id, { size: 0 }, digestOf(Buffer.alloc(0)) as Digest), TypeError);
        await assert.rejects(driver.abort(id, { size: 0 }), TypeError);
      }
      assert.deepEqual(await readdir(path.join(dir, 'uploads')), []);
      await assert.rejects(stat(outside), { code: 'ENOENT' });
    });
  });

  it('rejects digests that are not valid before building a path', async () => {
    await withDriver(async (driver) => {
      for (const digest of ['sha256:../../etc/passwd', 'sha256:' + 'A'.repeat(64), 'md5:' + 'a'.repeat(32), 'sha256:abc']) {
        await assert.rejects(driver.stat(digest as Digest), TypeError);
        await assert.rejects(driver.read(digest as Digest), TypeError);
        await assert.rejects(driver.delete([digest as Digest]), TypeError);
      }
    });
  });

  it('cuts off a partial tail left by a crash before appending at the recorded size', async () => {
    await withDriver(async (_driver, dir) => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      });
      const driver = new FsStorageDriver({ root: dir, logger: pino(sink) });
      const id = 'crashed-upload-1';
      const first = Buffer.from('acknowledged bytes;');
      const second = Buffer.from(' the retried chunk');
      const state = await driver.append(id, await driver.createUpload(id), streamOf(first));
      // The process died mid-write: bytes past state.size reached the disk, unacknowledged.
      const data = path.join(dir, 'uploads', id, 'data');
      await appendFile(data, 'garbage from a chunk that never completed');
      assert.ok((await driver.uploadSize(id, state)) > first.length, 'uploadSize reports the real on-disk size');
      const next = await driver.append(id, state, streamOf(second));
      assert.equal(next.size, first.length + second.length);
      assert.deepEqual(await readFile(data), Buffer.concat([first, second]));
      assert.ok(lines.some((line) => line.includes('discarding unacknowledged upload tail') && line.includes(id)), lines.join(''));
      await driver.abort(id, next);
    });
  });

  it('refuses to append when the file is shorter than the recorded size', async () => {
    await withDriver(async (driver) => {
      const id = 'short-upload-1';
      const state = await driver.append(id, await driver.createUpload(id), streamOf(Buffer.from('1234')));
      await assert.rejects(driver.append(id, { size: state.size + 10 }, streamOf(Buffer.from('x'))), /fewer than the 14 recorded/);
      assert.equal(await driver.uploadSize(id, state), 4);
      await driver.abort(id, state);
    });
  });

  it('creates files 0640 and directories 0750 or stricter: other local users read nothing', async () => {
    await withDriver(async (driver, dir) => {
      const bytes = Buffer.from('permissions');
      const id = 'perm-upload-1';
      const state = await driver.append(id, await driver.createUpload(id), streamOf(bytes));
      const pendingId = 'perm-upload-2';
      await driver.createUpload(pendingId);
      await driver.commit(id, state, digestOf(bytes) as Digest);
      const seen = { files: 0, dirs: 0 };
      const walk = async (at: string): Promise<void> => {
        for (const entry of await readdir(at, { withFileTypes: true })) {
          const full = path.join(at, entry.name);
          const mode = (await stat(full)).mode & 0o777;
          if (entry.isDirectory()) {
            seen.dirs++;
            assert.equal(mode & ~0o750, 0, `${full} is ${mode.toString(8)}`);
            await walk(full);
          } else {
            seen.files++;
            assert.equal(mode & ~0o640, 0, `${full} is ${mode.toString(8)}`);
          }
        }
      };
      await walk(dir);
      assert.ok(seen.files >= 2 && seen.dirs >= 5, `walked ${seen.files} files and ${seen.dirs} dirs`);
    });
  });

  it('takes access for other users away from an existing root that grants it', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'wharf-fs-open-'));
    try {
      const root = path.join(parent, 'root');
      await mkdir(root);
      await chmod(root, 0o755);
      await new FsStorageDriver({ root }).healthCheck();
      assert.equal((await stat(root)).mode & 0o777, 0o750);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('stores a committed blob at blobs/<alg>/<two hex>/<hex> and lists only valid digest paths', async () => {
    await withDriver(async (driver, dir) => {
      const bytes = Buffer.from('layout');
      const digest = digestOf(bytes) as Digest;
      const id = 'layout-upload';
      await driver.commit(id, await driver.append(id, await driver.createUpload(id), streamOf(bytes)), digest);
      const hex = digest.slice('sha256:'.length);
      assert.deepEqual(await readFile(path.join(dir, 'blobs', 'sha256', hex.slice(0, 2), hex)), bytes);
      assert.deepEqual(await readdir(path.join(dir, 'uploads')), []);

      // Strays an operator (or an editor) might leave: none of them is a blob.
      await writeFile(path.join(dir, 'blobs', 'sha256', hex.slice(0, 2), `${hex}.tmp`), 'x');
      await writeFile(path.join(dir, 'blobs', 'sha256', hex.slice(0, 2), 'README'), 'x');
      const wrongPrefix = hex.slice(0, 2) === 'ff' ? '00' : 'ff';
      await mkdir(path.join(dir, 'blobs', 'sha256', wrongPrefix), { recursive: true });
      await writeFile(path.join(dir, 'blobs', 'sha256', wrongPrefix, hex), 'x');
      await mkdir(path.join(dir, 'blobs', 'md5', 'ab'), { recursive: true });
      await writeFile(path.join(dir, 'blobs', 'md5', 'ab', 'ab'.padEnd(32, '0')), 'x');
      await writeFile(path.join(dir, 'blobs', 'sha256', 'stray-file'), 'x');

      const listed = [];
      for await (const blob of driver.list()) listed.push(blob);
      assert.deepEqual(listed, [{ digest, size: bytes.length }]);
      assert.deepEqual(await collect(await driver.read(digest, { start: 1, end: 3 })), Buffer.from('ayo'));
    });
  });

  it('fails its health check with an error naming the path when the root is unusable', async () => {
    await withDriver(async (_driver, dir) => {
      const file = path.join(dir, 'not-a-directory');
      await writeFile(file, 'x');
      const root = path.join(file, 'storage');
      const driver = new FsStorageDriver({ root });
      await assert.rejects(driver.healthCheck(), (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.equal((err as { code?: unknown }).code, 'REG_ERR_STORAGE');
        assert.match(err.message, /not usable: cannot create directory .*: a parent of the path is not a directory \(ENOTDIR\)/);
        assert.ok(err.message.includes(root), err.message);
        return true;
      });
    });
  });

  it('works with fsync turned off', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wharf-fs-nosync-'));
    try {
      const driver = new FsStorageDriver({ root: dir, fsync: false });
      await driver.healthCheck();
      const bytes = Buffer.from('no fsync');
      const id = 'nosync-upload';
      const digest = digestOf(bytes) as Digest;
      await driver.commit(id, await driver.append(id, await driver.createUpload(id), streamOf(bytes)), digest);
      assert.deepEqual(await collect(await driver.read(digest)), bytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
