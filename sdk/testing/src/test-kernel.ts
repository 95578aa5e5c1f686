import { createKernel, loadConfig, type WharfConfig } from '@wharf/core';
import type { KernelHooks, ServiceRef } from '@wharf/sdk';
import { testConfig, testDataDir, type TestKernelOptions } from './test-config.js';

/**
 * A booted kernel without HTTP, for hook- and service-level tests of a plugin: the real loader,
 * config validation, hooks, services, SQLite and storage, in a throwaway data dir.
 */

/**
 * What {@link createTestKernel} returns.
 * @since 0.1.0
 */
export interface TestKernel {
  /** The kernel's hook catalogue, callable: `hooks.auth.authenticate.promise(credentials, info)`. */
  readonly hooks: KernelHooks;
  /** A service by its ref (built at boot), e.g. `get(coreServices.storage)`. */
  get<T>(ref: ServiceRef<T>): T;
  /** The effective config: validated, defaults applied, frozen. */
  readonly config: WharfConfig;
  readonly dataDir: string;
  /** Closes the kernel (`lifecycle.close`, disposers) and removes the temp data dir. Idempotent. */
  close(): Promise<void>;
}

/**
 * Boots a kernel, without HTTP, on fs storage and SQLite in a fresh temp dir. The registry is
 * open (`token: { enabled: false }, auth: [], rbac: {}`) unless `options.config` gives those keys;
 * plugins in `options.plugins` are configured with `{}` unless the config names them. WHARF_*
 * environment variables are ignored. Boot errors are thrown as the kernel throws them.
 * @example
 * const kernel = await createTestKernel({ plugins: [myAuthPlugin] });
 * const principal = await kernel.hooks.auth.authenticate.promise(credentials, info);
 * await kernel.close();
 * @since 0.1.0
 */
export async function createTestKernel(options: TestKernelOptions = {}): Promise<TestKernel> {
  const data = await testDataDir(options);
  try {
    const loaded = await loadConfig({ config: testConfig(options, data.dir), env: {}, plugins: options.plugins });
    const kernel = createKernel(loaded, { logDestination: options.logDestination });
    try {
      await kernel.boot();
    } catch (err) {
      await kernel.close();
      throw err;
    }
    let closing: Promise<void> | undefined;
    return Object.freeze({
      hooks: kernel.hooks,
      get: <T>(ref: ServiceRef<T>): T => kernel.resolve(ref),
      config: kernel.config,
      dataDir: data.dir,
      close: () => (closing ??= kernel.close().finally(data.cleanup)),
    });
  } catch (err) {
    await data.cleanup();
    throw err;
  }
}
