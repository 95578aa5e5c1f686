import path from 'node:path';
import { coreServices, definePlugin } from '@wharf/sdk';
import { fsConfigSchema } from './config.js';
import { FsStorageDriver } from './fs-driver.js';
import { FS_PLUGIN_VERSION } from './version.js';

/**
 * `storage: { fs: {...} }`: blobs and uploads on a local filesystem. The default storage of a
 * one-node Wharf.
 */
export const storageFsPlugin = definePlugin({
  id: 'fs',
  kind: 'storage',
  version: FS_PLUGIN_VERSION,
  kernel: '^0.1.0',
  description: 'Stores blobs and uploads on a local filesystem',
  configSchema: fsConfigSchema,
  register(ctx) {
    // Declaration only: the directory is created by the driver's health check at boot.
    const root = path.resolve(ctx.settings.dataDir, ctx.config.root ?? '.');
    const fsync = ctx.config.fsync !== false;
    const logger = ctx.logger;
    ctx.provide(coreServices.storage, {
      factory: () => new FsStorageDriver({ root, fsync, logger }),
    });
  },
});

export default storageFsPlugin;
export { FsStorageDriver, type FsStorageDriverOptions } from './fs-driver.js';
export { fsConfigSchema, type FsConfig } from './config.js';
