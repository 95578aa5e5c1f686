import { AsyncParallelHook, HookMap, SyncBailHook } from 'tapable';
import type { ReplicationEndpoint, ReplicationHooks, ReplicationStatusEvent, ReplicationTarget } from '@wharf/sdk';
import { instrument, type InstrumentOptions } from './instrument.js';

/** Target adapters, one bail hook per target type (`target.for('oci')`), and status events. */
export function createReplicationHooks(options: InstrumentOptions): ReplicationHooks {
  return Object.freeze({
    target: new HookMap(
      (type: string) =>
        instrument(
          `replication.target:${type}`,
          new SyncBailHook<[ReplicationEndpoint], ReplicationTarget | undefined>(['endpoint'], `replication.target:${type}`),
          options,
        ),
      'replication.target',
    ),
    statusChanged: instrument(
      'replication.statusChanged',
      new AsyncParallelHook<[ReplicationStatusEvent]>(['event'], 'replication.statusChanged'),
      options,
    ),
  });
}
