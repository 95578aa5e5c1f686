import { AsyncSeriesBailHook } from 'tapable';
import type { AccessRequest, Decision, Principal, RbacHooks } from '@wharf/sdk';
import { instrument, type InstrumentOptions } from './instrument.js';

/** Authorization: the first explicit allow or deny wins. */
export function createRbacHooks(options: InstrumentOptions): RbacHooks {
  return Object.freeze({
    authorize: instrument(
      'rbac.authorize',
      new AsyncSeriesBailHook<[Principal, AccessRequest], Decision | undefined>(['principal', 'access'], 'rbac.authorize'),
      options,
    ),
  });
}
