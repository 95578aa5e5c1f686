import { AsyncSeriesBailHook, AsyncSeriesWaterfallHook } from 'tapable';
import type { AuthHooks, Credentials, LoginAttempt, Principal, RequestInfo, TokenIssued } from '@wharf/sdk';
import { instrument, type InstrumentOptions } from './instrument.js';
import { observationHook } from './observe.js';

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
    loginAttempted: observationHook<LoginAttempt>('auth.loginAttempted', options),
    tokenIssued: observationHook<TokenIssued>('auth.tokenIssued', options),
  });
}
