import { after } from 'node:test';
import { runStorageConformance } from '@wharf/sdk-testing';
import { createS3Client } from './client.js';
import { S3StorageDriver } from './s3-driver.js';
import { listLeftovers, openS3TestTarget } from './test-support.js';

// The shared storage suite against s3rver, or against the bucket WHARF_S3_TEST_BUCKET names
// (see README.md). 5 MiB parts, S3's minimum, so the multi-MiB tests cross many part boundaries.
const target = await openS3TestTarget();
const options = target.options({ partSize: 5 * 1024 * 1024 });

runStorageConformance({
  name: `s3 driver conformance (${target.kind})`,
  create: async () => new S3StorageDriver(options),
  teardown: async (driver) => (driver as S3StorageDriver).close(),
  leftovers: async () => {
    const client = createS3Client(options);
    try {
      return await listLeftovers(client, options.bucket, options.prefix ?? '');
    } finally {
      client.destroy();
    }
  },
});

after(() => target.stop());
