import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Digest } from '@wharf/sdk';
import { collect } from '@wharf/sdk-testing';
import { classifyS3Error } from './errors.js';
import { exactRange } from './exact-range.js';
import { S3Layout, normalizePrefix } from './layout.js';
import { emptyState, parseState } from './upload-state.js';

const HEX = 'ab'.repeat(32);
const DIGEST = `sha256:${HEX}` as Digest;
const MiB = 1024 * 1024;

describe('S3Layout', () => {
  const layout = new S3Layout('reg/');

  it('builds keys from validated digests and upload ids only', () => {
    assert.equal(layout.claimKey(DIGEST, 42, 'upload-123'), `reg/blobs/sha256/${HEX}/42.upload-123`);
    assert.equal(layout.dataKey('upload-123'), 'reg/data/upload-123');
    assert.equal(layout.markerKey('upload-123'), 'reg/uploads/upload-123/marker');
    for (const digest of ['sha256:../../x', `sha256:${'AB'.repeat(32)}`, 'md5:abc', '']) {
      assert.throws(() => layout.claimsPrefix(digest as Digest), TypeError, digest);
    }
    for (const id of ['../../etc', 'short', 'a/b/c/d/e', 'dots.are.not.ok', 'x'.repeat(129)]) {
      assert.throws(() => layout.dataKey(id), TypeError, id);
      assert.throws(() => layout.scratchPrefix(id), TypeError, id);
    }
    assert.throws(() => layout.segmentKey('upload-123', '../marker'), TypeError);
    assert.match(S3Layout.newSegmentName(12345), /^12345-[0-9a-f]{12}$/);
  });

  it('parses claims back, and nothing else', () => {
    assert.deepEqual(layout.parseClaim(`reg/blobs/sha256/${HEX}/42.upload-123`), {
      key: `reg/blobs/sha256/${HEX}/42.upload-123`,
      digest: DIGEST,
      size: 42,
      uploadId: 'upload-123',
    });
    for (const key of [
      `other/blobs/sha256/${HEX}/42.upload-123`,
      `reg/blobs/sha256/${HEX}/042.upload-123`,
      `reg/blobs/sha256/${HEX}/42.up`,
      `reg/blobs/sha256/${HEX}/42.upload-123/x`,
      `reg/blobs/sha256/${HEX.slice(2)}/42.upload-123`,
      `reg/blobs/md5/${HEX}/42.upload-123`,
      'reg/blobs/readme',
    ]) {
      assert.equal(layout.parseClaim(key), undefined, key);
    }
  });

  it('normalises prefixes', () => {
    assert.equal(normalizePrefix(undefined), '');
    assert.equal(normalizePrefix(''), '');
    assert.equal(normalizePrefix('/'), '');
    assert.equal(normalizePrefix('a/b'), 'a/b/');
    assert.equal(normalizePrefix('/a/b//'), 'a/b/');
  });
});

describe('upload state', () => {
  it('accepts what the driver produces and rejects what it could not have', () => {
    assert.deepEqual(parseState(emptyState(5 * MiB)), emptyState(5 * MiB));
    const good = { size: 5 * MiB + 10, partSize: 5 * MiB, multipart: 'mp-1', etags: ['"e1"'], pending: [{ name: '5242880-0123456789ab', start: 0, size: 10 }] };
    assert.deepEqual(parseState(JSON.parse(JSON.stringify(good)) as never), good);
    const bad: unknown[] = [
      null,
      { ...good, size: -1 },
      { ...good, size: 1.5 },
      { ...good, partSize: MiB },
      { ...good, multipart: undefined },
      { ...good, etags: [] },
      { ...good, etags: [1] },
      { ...good, pending: [{ name: 'marker', start: 0, size: 10 }] },
      { ...good, pending: [{ name: '../x', start: 0, size: 10 }] },
      { ...good, pending: [{ name: 'data', start: 0, size: 0 }] },
      { ...good, pending: 'data' },
      { ...good, size: good.size + 1 },
    ];
    for (const state of bad) assert.throws(() => parseState(state as never), TypeError, JSON.stringify(state));
  });
});

describe('exactRange', () => {
  const bytes = Buffer.from('0123456789abcdefghij');
  const chunked = (from: number) => Readable.from([bytes.subarray(from, from + 3), bytes.subarray(from + 3, from + 11), bytes.subarray(from + 11)]);

  it('cuts a whole-object answer down to the range (s3rver answers bytes=0-0 with everything)', async () => {
    assert.equal((await collect(exactRange(chunked(0), { start: 0, end: 0 }, 0, 'x'))).toString(), '0');
    assert.equal((await collect(exactRange(chunked(0), { start: 5, end: 12 }, 0, 'x'))).toString(), '56789abc');
    assert.equal((await collect(exactRange(chunked(4), { start: 4, end: 19 }, 4, 'x'))).toString(), '456789abcdefghij');
  });

  it('fails on a short body or an answer that starts after the range', async () => {
    await assert.rejects(collect(exactRange(Readable.from([bytes.subarray(0, 5)]), { start: 0, end: 9 }, 0, 'obj')), /sent 5 of 10 bytes/);
    assert.throws(() => exactRange(chunked(5), { start: 2, end: 9 }, 5, 'obj'), /asked for bytes from 2/);
  });
});

describe('classifyS3Error', () => {
  it('tells credentials, buckets, throttling, server and network problems apart', () => {
    const s3 = (Code: string, status: number) => Object.assign(new Error(Code), { name: Code, Code, $metadata: { httpStatusCode: status } });
    assert.equal(classifyS3Error(s3('InvalidAccessKeyId', 403)).problem, 'credentials');
    assert.equal(classifyS3Error(s3('SignatureDoesNotMatch', 403)).problem, 'credentials');
    assert.equal(classifyS3Error(s3('ExpiredToken', 400)).problem, 'credentials');
    assert.equal(classifyS3Error(s3('AccessDenied', 403)).problem, 'denied');
    assert.equal(classifyS3Error(s3('NoSuchBucket', 404)).problem, 'no-bucket');
    assert.equal(classifyS3Error(s3('NoSuchKey', 404)).problem, 'not-found');
    assert.equal(classifyS3Error(s3('SlowDown', 503)).problem, 'throttled');
    assert.equal(classifyS3Error(s3('InternalError', 500)).problem, 'server');
    assert.equal(classifyS3Error(s3('NotImplemented', 501)).problem, 'not-implemented');
    assert.equal(classifyS3Error(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })).problem, 'unreachable');
    assert.equal(classifyS3Error(Object.assign(new Error('t'), { name: 'TimeoutError' })).problem, 'timeout');
    assert.equal(classifyS3Error(Object.assign(new Error('none'), { name: 'CredentialsProviderError' })).problem, 'no-credentials');
  });
});
