import { SyncHook } from 'tapable';
import type { HttpHooks, HttpRequestFinished, HttpRequestStarted, JobAttempt, JobsHooks, StorageHooks, StorageOperation } from '@wharf/sdk';
import type { Logger } from 'pino';
import { instrument, type InstrumentOptions } from './instrument.js';

/**
 * Observation hooks (`http.*`, `storage.operationFinished`, `jobs.attemptFinished`, and
 * `auth.loginAttempted` / `auth.tokenIssued` in the auth domain): synchronous notifications for
 * metrics. The kernel calls them through {@link observe}, which skips an untapped hook before the
 * observation is even built, and never lets a tap's throw reach the work it observes.
 */

export function observationHook<T>(name: string, options: InstrumentOptions): SyncHook<[T]> {
  return instrument(name, new SyncHook<[T]>(['observation'], name), options);
}

export function createHttpHooks(options: InstrumentOptions): HttpHooks {
  return Object.freeze({
    requestStarted: observationHook<HttpRequestStarted>('http.requestStarted', options),
    requestFinished: observationHook<HttpRequestFinished>('http.requestFinished', options),
  });
}

export function createStorageHooks(options: InstrumentOptions): StorageHooks {
  return Object.freeze({ operationFinished: observationHook<StorageOperation>('storage.operationFinished', options) });
}

export function createJobsHooks(options: InstrumentOptions): JobsHooks {
  return Object.freeze({ attemptFinished: observationHook<JobAttempt>('jobs.attemptFinished', options) });
}

/** Calls `hook` with what `build` makes, when anyone tapped it; a tap's throw is logged, not thrown. */
export function observe<T>(hook: SyncHook<[T]>, build: () => T, logger?: Logger): void {
  if (!hook.isUsed()) return;
  try {
    hook.call(build());
  } catch (err) {
    logger?.warn({ err, hook: hook.name }, 'observation tap failed');
  }
}
