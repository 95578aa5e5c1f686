import { ReplicationTargetError, type ReplicationHooks, type ReplicationTargetService } from '@wharf/sdk';
import type { Logger } from 'pino';
import { tappedKeys } from './index.js';

/**
 * `coreServices.replicationTargets`: the kernel calls its own replication hooks for the engine
 * (a plugin only taps hooks), so the engine can live in a plugin. See ADR 0021.
 */
export function createReplicationTargets(hooks: ReplicationHooks, logger: Logger): ReplicationTargetService {
  const service: ReplicationTargetService = {
    kinds: () => tappedKeys(hooks.target),
    open(endpoint) {
      const target = hooks.target.for(endpoint.type).call(endpoint);
      if (!target) {
        throw new ReplicationTargetError('UNSUPPORTED', `no replication adapter for endpoint type "${endpoint.type}" (is its plugin configured?)`, { retryable: false });
      }
      return target;
    },
    async statusChanged(event) {
      if (!hooks.statusChanged.isUsed()) return;
      await hooks.statusChanged.promise(event).catch((err: unknown) => logger.error({ err, event: 'replication.statusChanged' }, 'event listener failed'));
    },
  };
  return Object.freeze(service);
}
