import { replicationEvents, type ReplicationStatusChangedData } from '@wharf/sdk';

/**
 * `replication.status.changed`, recorded by the replication plugin; its `project` names the
 * project whose webhook policies hear of it.
 */
export type { ReplicationStatusChangedData };
export const replicationStatusChanged = replicationEvents.statusChanged;
