import { AsyncSeriesBailHook, AsyncSeriesWaterfallHook } from 'tapable';
import type { AuthHooks, Credentials, Principal, RequestInfo } from '@wharf/sdk';
import { instrument, type InstrumentOptions } from './instrument.js';

/** Identity hooks: providers in config order, then enrichment. */
export function createAuthHooks(options: InstrumentOptions): AuthHooks {
  return Object.freeze({
    authenticate: instrument(
      'auth.authenticate',
      new AsyncSeriesBailHook<[Credentials, RequestInfo], Principal | undefined>(['credentials', 'request'], 'auth.authenticate'),
      options,
    ),
    principal: instrument(
      'auth.principal',
      new AsyncSeriesWaterfallHook<[Principal, RequestInfo]>(['principal', 'request'], 'auth.principal'),
      options,
    ),
    active: instrument('auth.active', new AsyncSeriesBailHook<[Principal], boolean | undefined>(['principal'], 'auth.active'), options),
  });
}
