import type { StorageDriver, StorageHooks } from '@wharf/sdk';
import type { Logger } from 'pino';
import { observe } from '../hooks/index.js';

/**
 * The storage driver as everyone but its own plugin sees it: each call reported to
 * `storage.operationFinished` with its duration, when anyone tapped it. A Proxy rather than a
 * copy, so a driver's extra members keep working; methods are bound to the driver itself.
 */

const TIMED: ReadonlySet<string> = new Set([
  'healthCheck', 'stat', 'read', 'redirectUrl', 'delete', 'deleteCommitted', 'createUpload', 'append', 'uploadSize', 'readUpload', 'commit', 'abort',
]);

export function timedStorage(driver: StorageDriver, hooks: StorageHooks, logger: Logger): StorageDriver {
  const hook = hooks.operationFinished;
  const cache = new Map<PropertyKey, unknown>();
  const timed = (operation: string, fn: (...args: unknown[]) => Promise<unknown>) =>
    async (...args: unknown[]): Promise<unknown> => {
      if (!hook.isUsed()) return fn.apply(driver, args);
      const started = performance.now();
      let ok = false;
      try {
        const result = await fn.apply(driver, args);
        ok = true;
        return result;
      } finally {
        const durationMs = performance.now() - started;
        observe(hook, () => ({ driver: driver.name, operation, durationMs, ok }), logger);
      }
    };
  return new Proxy(driver, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      let wrapped = cache.get(prop);
      if (wrapped === undefined) {
        const fn = value as (...args: unknown[]) => Promise<unknown>;
        wrapped = typeof prop === 'string' && TIMED.has(prop) ? timed(prop, fn) : fn.bind(target);
        cache.set(prop, wrapped);
      }
      return wrapped;
    },
  });
}
