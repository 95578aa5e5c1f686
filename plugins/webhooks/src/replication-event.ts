import { defineEventType } from '@wharf/sdk';

/**
 * `replication.status.changed`, declared here until the SDK exports it (the replication plugin
 * records it); at that point this file becomes a re-export of the SDK's handle.
 */
export interface ReplicationStatusChangedData {
  readonly policyId: number | string;
  readonly policyName: string;
  readonly executionId: number | string;
  readonly status: string;
  readonly trigger: string;
  readonly startedAt?: string | number | null;
  readonly finishedAt?: string | number | null;
  readonly total?: number;
  readonly succeeded?: number;
  readonly failed?: number;
  /** The local project the replicated resources belong to: whose webhook policies hear of it. */
  readonly project?: string;
}

export const replicationStatusChanged = defineEventType<ReplicationStatusChangedData>('replication.status.changed');
