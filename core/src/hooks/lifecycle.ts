import { AsyncParallelHook, AsyncSeriesHook } from 'tapable';
import type { LifecycleHooks } from '@wharf/sdk';
import { instrument, type InstrumentOptions } from './instrument.js';

/** Start and stop. `close` runs the latest-registered tap first, like a stack of disposers. */
export function createLifecycleHooks(options: InstrumentOptions): LifecycleHooks {
  return Object.freeze({
    ready: instrument('lifecycle.ready', new AsyncParallelHook<[]>([], 'lifecycle.ready'), options),
    close: instrument('lifecycle.close', new AsyncSeriesHook<[]>([], 'lifecycle.close'), { ...options, reverse: true }),
  });
}
