import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { KernelError, RegistryError, type Digest } from '@wharf/sdk';
import { digestOf, streamOf } from '@wharf/sdk-testing';
import { S3StorageDriver, type S3StorageDriverOptions } from './s3-driver.js';
import { countCommands, freePort, startFaultProxy, startS3rver, type FaultProxy, type S3rverHandle } from './test-support.js';

// Boot-time and per-request failures, and retries, against a real s3rver (wrong key, missing
// bucket, closed port, a server that never answers) and a proxy in front of it that injects
// S3 error answers (throttling, 5xx, codes s3rver never sends). Always local: these tests
// need to break things on purpose.

let s3: S3rverHandle;
let proxy: FaultProxy;
const bucket = 'wharf-errors';
const drivers: S3StorageDriver[] = [];

before(async () => {
  s3 = await startS3rver();
  await s3.createBucket(bucket);
  proxy = await startFaultProxy(s3.endpoint);
});

after(async () => {
  for (const d of drivers) d.close();
  await proxy?.close();
  await s3?.stop();
});

function driver(extra: Partial<S3StorageDriverOptions> = {}): S3StorageDriver {
  const d = new S3StorageDriver({ ...s3.options(bucket), prefix: `errors-${randomBytes(4).toString('hex')}/`, ...extra });
  drivers.push(d);
  return d;
}

/** Asserts a REG_ERR_STORAGE kernel error whose message matches every pattern. */
function storageError(...patterns: RegExp[]): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof KernelError, `expected a KernelError, got ${String(err)}`);
    assert.equal(err.code, 'REG_ERR_STORAGE');
    assert.equal(err.plugin, 's3');
    for (const pattern of patterns) assert.match(err.message, pattern);
    return true;
  };
}

describe('s3 health check', () => {
  it('passes against a usable bucket, probing writes once and only listing afterwards', async () => {
    const d = driver();
    const calls = countCommands(d.client);
    await d.healthCheck();
    assert.deepEqual(Object.fromEntries(calls.counts), { ListObjectsV2: 1, PutObject: 1, GetObject: 1, DeleteObjects: 1 });
    calls.reset();
    await d.healthCheck();
    assert.deepEqual(Object.fromEntries(calls.counts), { ListObjectsV2: 1 });
  });

  it('names bad credentials: an access key the store does not know', async () => {
    const d = driver({ accessKeyId: 'NOT-A-KEY', secretAccessKey: 'whatever' });
    await assert.rejects(d.healthCheck(), storageError(/bucket "wharf-errors" at http:\/\/127\.0\.0\.1:\d+ is not usable/, /rejected the credentials/, /InvalidAccessKeyId/));
  });

  it('names bad credentials: a signature the store rejects', async () => {
    // s3rver does not check SigV4 signatures: the proxy answers as AWS does for a wrong secret.
    const d = driver({ endpoint: proxy.endpoint, maxAttempts: 1 });
    proxy.failNext(1, 403, 'SignatureDoesNotMatch');
    await assert.rejects(d.healthCheck(), storageError(/rejected the credentials/, /SignatureDoesNotMatch/));
  });

  it('names missing credentials when neither the config nor the AWS chain has any', async () => {
    const saved = { ...process.env };
    for (const name of Object.keys(process.env)) if (name.startsWith('AWS_') && name !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED') delete process.env[name];
    Object.assign(process.env, { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' });
    try {
      const d = new S3StorageDriver({ bucket, endpoint: s3.endpoint, forcePathStyle: true, maxAttempts: 1 });
      drivers.push(d);
      await assert.rejects(d.healthCheck(), storageError(/no credentials found/, /CredentialsProviderError/));
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it('names a missing bucket', async () => {
    const d = new S3StorageDriver({ ...s3.options('no-such-bucket-here'), maxAttempts: 1 });
    drivers.push(d);
    await assert.rejects(d.healthCheck(), storageError(/bucket "no-such-bucket-here" does not exist/, /NoSuchBucket/));
  });

  it('names an unreachable endpoint, quickly', async () => {
    const port = await freePort();
    const d = new S3StorageDriver({ ...s3.options(bucket), endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 });
    drivers.push(d);
    const started = Date.now();
    await assert.rejects(d.healthCheck(), storageError(new RegExp(`cannot reach the endpoint http://127\\.0\\.0\\.1:${port}`), /ECONNREFUSED/));
    assert.ok(Date.now() - started < 10_000, 'a closed port fails within seconds');
  });

  it('names an endpoint that accepts connections but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const d = new S3StorageDriver({ ...s3.options(bucket), endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, socketTimeoutMs: 1000, healthCheckTimeoutMs: 3000 });
      drivers.push(d);
      await assert.rejects(d.healthCheck(), storageError(/did not answer in time/));
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('names the step and the permission when writing is denied', async () => {
    const d = driver({ endpoint: proxy.endpoint, maxAttempts: 1 });
    proxy.failNext(1, 403, 'AccessDenied', (req) => req.method === 'PUT');
    await assert.rejects(d.healthCheck(), storageError(/cannot write the probe object/, /s3:PutObject/, /access denied/, /AccessDenied/));
  });
});

describe('s3 retries', () => {
  it('retries throttling and 5xx answers with backoff, then succeeds', async () => {
    const d = driver({ endpoint: proxy.endpoint, maxAttempts: 4 });
    const bytes = randomBytes(1000);
    const id = `retry-${randomBytes(6).toString('hex')}`;
    const state = await d.append(id, await d.createUpload(id), streamOf(bytes));
    const digest = digestOf(bytes) as Digest;
    await d.commit(id, state, digest);
    for (const [status, code] of [[503, 'SlowDown'], [500, 'InternalError'], [503, 'ServiceUnavailable']] as const) {
      const before = proxy.seen.length;
      proxy.failNext(3, status, code);
      assert.equal((await d.stat(digest))?.size, 1000, `stat succeeds after three ${code} answers`);
      const attempts = proxy.seen.slice(before);
      assert.deepEqual(attempts.map((a) => a.status), [status, status, status, 200], `${code}: three failures, then the answer`);
    }
    await d.delete([digest]);
  });

  it('gives up after maxAttempts: throttling becomes TOOMANYREQUESTS, a 5xx a storage error', async () => {
    const d = driver({ endpoint: proxy.endpoint, maxAttempts: 2 });
    const digest = digestOf(randomBytes(10)) as Digest;
    proxy.failNext(2, 503, 'SlowDown');
    await assert.rejects(d.stat(digest), (err: unknown) => {
      assert.ok(err instanceof RegistryError, String(err));
      assert.equal(err.code, 'TOOMANYREQUESTS');
      assert.equal(err.status, 429);
      return true;
    });
    proxy.failNext(2, 500, 'InternalError');
    await assert.rejects(d.read(digest), storageError(/ListObjectsV2/, /server error/, /InternalError/));
    proxy.failNext(0, 500, 'InternalError');
  });

  it('reports a request failing on a missing bucket after boot in operator terms', async () => {
    const d = new S3StorageDriver({ ...s3.options('vanished-bucket'), maxAttempts: 1 });
    drivers.push(d);
    await assert.rejects(d.stat(digestOf(Buffer.from('x')) as Digest), storageError(/bucket "vanished-bucket" does not exist/));
    await assert.rejects(d.createUpload('vanished-upload-1'), storageError(/PutObject/, /NoSuchBucket/));
  });
});

describe('s3rver gaps the driver works around', () => {
  it('discards a multipart upload on a store without AbortMultipartUpload, warning once', async () => {
    const lines: string[] = [];
    const logger = pino(new Writable({ write: (chunk: Buffer, _enc, done) => void (lines.push(chunk.toString()), done()) }));
    const d = driver({ partSize: 5 * 1024 * 1024, logger });
    for (let i = 0; i < 2; i++) {
      const id = `gap-${i}-${randomBytes(6).toString('hex')}`;
      const state = await d.append(id, await d.createUpload(id), streamOf(randomBytes(6 * 1024 * 1024)));
      await d.abort(id, state);
      await assert.rejects(d.uploadSize(id, state), (err: unknown) => err instanceof Error && err.name === 'UploadNotFoundError');
    }
    const warnings = lines.filter((line) => line.includes('no AbortMultipartUpload'));
    assert.equal(warnings.length, 1, 'one warning per driver, not one per upload');
  });
});
