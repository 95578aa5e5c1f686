import { SyncHook } from 'tapable';
import type { HttpHooks, ScopedRouter } from '@wharf/sdk';
import { instrument, type InstrumentOptions } from './instrument.js';

/** Extension routes; the kernel calls each tap with a router under `/_ext/<pluginId>`. */
export function createHttpHooks(options: InstrumentOptions): HttpHooks {
  return Object.freeze({
    routes: instrument('http.routes', new SyncHook<[ScopedRouter]>(['router'], 'http.routes'), options),
  });
}
