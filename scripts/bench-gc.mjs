#!/usr/bin/env node
// npm run bench:gc: how fast does online garbage collection delete unreferenced blobs? For each
// storage (fs, then S3 on s3rver started here), a kernel on SQLite with the gc plugin, BLOBS
// unreferenced blobs (recorded in the database a day ago with the upload committed as each, as
// the kernel records them; bytes written through the fs driver, or as the S3 driver's claim and
// data objects), then one collection with a grace window of 0
// and WORKERS batches in flight. Reports blobs deleted per second over the whole run (mark,
// claims, batched storage deletes, row deletes, the held-back count), and checks storage and
// database are empty afterwards.
//
// env: BLOBS=100000 WORKERS=4 BACKENDS=fs,s3 SEED_CONCURRENCY=64
import { randomUUID, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import { coreServices } from '@wharf/sdk';
import { createTestKernel } from '@wharf/sdk-testing';
import { gcPlugin, gcServiceRef } from '@wharf/plugin-gc';
import { storageS3Plugin } from '@wharf/plugin-storage-s3';
import { startS3rver } from '@wharf/plugin-storage-s3/test-support';

const require = createRequire(import.meta.url);
const FilesystemStore = require('s3rver/lib/stores/filesystem');
const S3Object = require('s3rver/lib/models/object');

const BLOBS = Number(process.env.BLOBS ?? 100_000);
const WORKERS = Number(process.env.WORKERS ?? 4);
const BACKENDS = (process.env.BACKENDS ?? 'fs,s3').split(',');
const SEED_CONCURRENCY = Number(process.env.SEED_CONCURRENCY ?? 64);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const blobAt = (i) => {
  const bytes = Buffer.from(`bench-gc blob ${i} ${randomUUID()}`);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes, upload: randomUUID() };
};

async function pool(n, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function seedRows(kernel, blobs) {
  const { knex } = kernel.get(coreServices.database);
  const created = Date.now() - 86_400_000;
  // As an upload commit records them (ADR 0037): the row, and the upload committed as it.
  for (let i = 0; i < blobs.length; i += 500) {
    const slice = blobs.slice(i, i + 500);
    await knex('blobs').insert(slice.map((b) => ({ digest: b.digest, size: b.bytes.length, created_at: created, commits_recorded: true })));
    await knex('blob_commits').insert(slice.map((b) => ({ digest: b.digest, upload_id: b.upload, holder: null })));
  }
}

async function bench(name, kernel, writeBytes) {
  const blobs = Array.from({ length: BLOBS }, (_, i) => blobAt(i));
  const seeded = Date.now();
  await pool(blobs.length, SEED_CONCURRENCY, (i) => writeBytes(blobs[i]));
  await seedRows(kernel, blobs);
  console.log(`${name}: seeded ${BLOBS} blobs in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
  const gc = kernel.get(gcServiceRef);
  const record = await gc.store.create({ trigger: 'cli', requestedBy: 'bench', options: { dryRun: false, deleteUntagged: false, untaggedOlderThanDays: 0, workers: WORKERS, graceWindowMinutes: 0 } });
  const started = process.hrtime.bigint();
  if (!(await gc.collector.run(record.id))) throw new Error('the collection lock was taken');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const done = await gc.store.get(record.id);
  if (done.status !== 'succeeded' || done.blobsDeleted !== BLOBS) throw new Error(`${name}: ${JSON.stringify(done)}`);
  const left = [];
  for await (const b of kernel.get(coreServices.storage).list()) left.push(b.digest);
  const rows = (await kernel.get(coreServices.blobs).list({ limit: 10 })).items.length;
  if (left.length > 0 || rows > 0) throw new Error(`${name}: ${left.length} blobs left in storage, ${rows}+ rows in the database`);
  const rate = BLOBS / seconds;
  console.log(`${name}: deleted ${BLOBS} blobs in ${seconds.toFixed(1)} s = ${Math.round(rate)} blobs/s (workers ${WORKERS}, SQLite)`);
  return { name, seconds, rate };
}

const quiet = { log: { level: 'warn' }, extensions: { gc: { uploads: { schedule: null } } } };
const results = [];
if (BACKENDS.includes('fs')) {
  const kernel = await createTestKernel({ config: quiet, plugins: [gcPlugin] });
  try {
    const storage = kernel.get(coreServices.storage);
    results.push(await bench('fs', kernel, async (b) => {
      const id = b.upload;
      let state = await storage.createUpload(id);
      state = await storage.append(id, state, Readable.from([b.bytes]));
      await storage.commit(id, state, b.digest);
    }));
  } finally {
    await kernel.close();
  }
}
if (BACKENDS.includes('s3')) {
  const s3 = await startS3rver();
  try {
    await s3.createBucket('bench-gc');
    const kernel = await createTestKernel({
      config: { ...quiet, storage: { s3: { bucket: 'bench-gc', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } },
      plugins: [gcPlugin, storageS3Plugin],
    });
    try {
      // The driver's layout written directly (its upload path takes ~8 requests a blob): a data
      // object and the empty claim naming it (docs/architecture/11-s3-storage.md). Written
      // through s3rver's own store code into its directory, not over HTTP: seeding is not what
      // is measured, and 200,000 PUTs to the single-process emulator took over ten minutes.
      const store = new FilesystemStore(s3.dir);
      const put = (key, body) => store.putObject(new S3Object('bench-gc', key, body, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }));
      results.push(await bench('s3 (s3rver)', kernel, async (b) => {
        const hex = b.digest.slice('sha256:'.length);
        await put(`data/${b.upload}`, b.bytes);
        await put(`blobs/sha256/${hex}/${b.bytes.length}.${b.upload}`, Buffer.alloc(0));
      }));
    } finally {
      await kernel.close();
    }
  } finally {
    await s3.stop();
  }
}
console.log(JSON.stringify(results));
