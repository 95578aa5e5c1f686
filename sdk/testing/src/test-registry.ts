import { startServer } from '@wharf/core';
import type { ServiceRef } from '@wharf/sdk';
import { testConfig, testDataDir, type TestKernelOptions } from './test-config.js';
import type { TestKernel } from './test-kernel.js';

/**
 * A real registry in-process, what `wharf serve` runs (config, boot, Koa app, graceful
 * shutdown), on a free port of 127.0.0.1, for tests that speak the OCI API over HTTP.
 */

/**
 * Options of {@link startTestRegistry}.
 * @since 0.1.0
 */
export interface TestRegistryOptions extends TestKernelOptions {
  /** `host:port` to listen on; default `127.0.0.1:0` (a free port). */
  readonly listen?: string | undefined;
}

/**
 * What {@link startTestRegistry} returns: the server's addresses, and the kernel behind it.
 * @since 0.1.0
 */
export interface TestRegistry extends TestKernel {
  /** Base URL, e.g. `http://127.0.0.1:41234` (append `/v2/...`). */
  readonly url: string;
  /** `host:port`, as image references use it: `${host}/library/app:1`. */
  readonly host: string;
  /** Drains requests, closes the kernel and removes the temp data dir. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a registry with the same config rules as {@link createTestKernel} (open, quiet, temp
 * data dir), listening on `127.0.0.1:0` unless `listen` says otherwise.
 * @example
 * const registry = await startTestRegistry({ plugins: [myStoragePlugin] });
 * await pushImage(registry.url, 'library/tiny', 'v1', tinyImage());
 * await registry.close();
 * @since 0.1.0
 */
export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const data = await testDataDir(options);
  try {
    const server = await startServer({
      config: testConfig(options, data.dir),
      listen: options.listen ?? '127.0.0.1:0',
      env: {},
      plugins: options.plugins,
      logDestination: options.logDestination,
    });
    const { kernel } = server;
    let closing: Promise<void> | undefined;
    return Object.freeze({
      url: server.url,
      host: new URL(server.url).host,
      hooks: kernel.hooks,
      get: <T>(ref: ServiceRef<T>): T => kernel.resolve(ref),
      config: kernel.config,
      dataDir: data.dir,
      close: () => (closing ??= server.close().finally(data.cleanup)),
    });
  } catch (err) {
    await data.cleanup();
    throw err;
  }
}
