import { coreServices, definePlugin } from '@wharf/sdk';
import { s3ConfigSchema } from './config.js';
import { S3StorageDriver } from './s3-driver.js';
import { VERSION } from './version.js';

/**
 * `storage: { s3: {...} }`: blobs and uploads in an S3 bucket (AWS S3, MinIO, Ceph RGW, R2...).
 * Any number of Wharf nodes may share the bucket.
 */
export const storageS3Plugin = definePlugin({
  id: 's3',
  kind: 'storage',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Stores blobs and uploads in an S3 or S3-compatible bucket',
  configSchema: s3ConfigSchema,
  register(ctx) {
    // Declaration only: the client connects in the driver's health check at boot.
    const config = ctx.config;
    const logger = ctx.logger;
    let driver: S3StorageDriver | undefined;
    ctx.provide(coreServices.storage, {
      factory: () => (driver = new S3StorageDriver({ ...config, logger })),
      dispose: () => driver?.close(),
    });
  },
});

export default storageS3Plugin;
export { S3StorageDriver, type S3StorageDriverOptions } from './s3-driver.js';
export { s3ConfigSchema, type S3Config } from './config.js';
export { VERSION as S3_PLUGIN_VERSION } from './version.js';
