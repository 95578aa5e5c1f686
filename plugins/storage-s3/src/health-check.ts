import { KernelError } from '@wharf/sdk';
import type { Bucket } from './bucket.js';
import { explainS3Error } from './errors.js';
import type { S3Layout } from './layout.js';

const PROBE = Buffer.from('wharf storage probe\n');

/**
 * Proves the bucket is usable: lists it (which also tells a missing bucket from bad credentials:
 * HeadBucket answers both with a bare 403/404), and with `probe` writes, reads back and deletes
 * a small object, which checks the write and delete permissions too. Fails with a
 * `REG_ERR_STORAGE` error that says which step failed and why, in operator terms.
 */
export async function checkBucket(bucket: Bucket, layout: S3Layout, options: { probe: boolean; timeoutMs: number }): Promise<void> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  await step(bucket, 'list objects (s3:ListBucket)', async () => {
    // The first page of one key is enough: an answer at all is the point.
    for await (const _ of bucket.list(layout.blobsPrefix, { pageSize: 1, signal })) break;
  });
  if (!options.probe) return;
  const key = layout.probeKey();
  await step(bucket, `write the probe object "${key}" (s3:PutObject)`, () => bucket.put(key, PROBE, 'meta'));
  try {
    await step(bucket, `read the probe object "${key}" back (s3:GetObject)`, async () => {
      const back = await bucket.getSmall(key, 1024);
      if (!back?.equals(PROBE)) throw new Error('the object read back differs from the one written');
    });
  } finally {
    await step(bucket, `delete the probe object "${key}" (s3:DeleteObject, through DeleteObjects)`, () => bucket.deleteKeys([key]));
  }
}

async function step(bucket: Bucket, what: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    // Bucket wraps SDK errors; explain the original one.
    const original = err instanceof KernelError && err.cause !== undefined ? err.cause : err;
    const { bucket: name, endpoint } = bucket.target;
    throw new KernelError('REG_ERR_STORAGE', `s3 storage: bucket "${name}" at ${endpoint} is not usable: cannot ${what}: ${explainS3Error(original, bucket.target)}`, {
      plugin: 's3',
      cause: original,
    });
  }
}
