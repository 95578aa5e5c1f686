import type { ReplicationStatus } from '@wharf/sdk';
import type { SourceFilters } from './filters.js';
import type { Flatten } from './flatten.js';

export type { Flatten };

/**
 * The replication model, as the engine and the API see it (the store maps it to rows).
 * Harbor's model, see docs/architecture/12-replication.md: endpoints, policies, executions
 * (one per run) made of tasks (one per artifact).
 */

/** A registry Wharf replicates to or from. The secret never leaves the store decrypted except to open a target. */
export interface Endpoint {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly type: string;
  readonly url: string;
  readonly username: string | undefined;
  readonly hasSecret: boolean;
  readonly insecure: boolean;
  readonly caCertificate: string | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface EndpointInput {
  readonly name: string;
  readonly description?: string | undefined;
  readonly type: string;
  readonly url: string;
  readonly username?: string | undefined;
  /** Plain secret; `undefined` on update keeps the stored one, `''` removes it. */
  readonly secret?: string | undefined;
  readonly insecure?: boolean | undefined;
  readonly caCertificate?: string | undefined;
}

/** Repository and tag patterns (globs or regular expressions, include or exclude); see filters.ts. */
export type PolicyFilters = SourceFilters;

export type PolicyMode = 'push' | 'pull';
export type PolicyTrigger = 'manual' | 'scheduled' | 'event';

export interface Policy {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly mode: PolicyMode;
  readonly endpointId: number;
  readonly filters: PolicyFilters;
  readonly destinationNamespace: string | undefined;
  readonly flatten: Flatten;
  readonly trigger: PolicyTrigger;
  /** Cron expression of scheduled policies. */
  readonly cron: string | undefined;
  readonly replicateDeletion: boolean;
  /** Replace a destination tag that points at other content. */
  readonly override: boolean;
  /** KiB/s per task; -1 = unlimited. */
  readonly bandwidthKbps: number;
  /** Send blobs in chunks of this many bytes; `undefined` = one streamed request. */
  readonly chunkSize: number | undefined;
  readonly enabled: boolean;
  /** The user who created it (unset for policies older than this field): owns the projects its pulls create. */
  readonly createdBy: string | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type PolicyInput = Omit<Policy, 'id' | 'createdAt' | 'updatedAt' | 'createdBy'>;

export type ExecutionTrigger = PolicyTrigger;

/** The artifact an event-triggered execution is about. */
export interface ExecutionEvent {
  readonly operation: 'copy' | 'delete';
  readonly repository: string;
  /** A tag, or a digest for untagged content (a referrer pushed by digest). */
  readonly reference: string;
}

export interface Execution {
  readonly id: number;
  readonly policyId: number;
  readonly trigger: ExecutionTrigger;
  readonly status: ReplicationStatus;
  readonly statusText: string;
  readonly event: ExecutionEvent | undefined;
  readonly planned: boolean;
  readonly startedAt: Date;
  readonly finishedAt: Date | undefined;
  /** Task counts by status. */
  readonly tasks: TaskCounts;
  /** Bytes copied by its tasks. */
  readonly bytes: number;
}

export interface TaskCounts {
  readonly total: number;
  readonly pending: number;
  readonly running: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly stopped: number;
  readonly skipped: number;
}

export type TaskOperation = 'copy' | 'delete';

export interface Task {
  readonly id: number;
  readonly executionId: number;
  readonly operation: TaskOperation;
  readonly sourceRepository: string;
  readonly sourceReference: string;
  readonly destinationRepository: string;
  readonly destinationReference: string;
  readonly status: ReplicationStatus;
  readonly attempts: number;
  readonly bytes: number;
  readonly digest: string | undefined;
  readonly error: string | undefined;
  readonly startedAt: Date | undefined;
  readonly finishedAt: Date | undefined;
}

/** What planning produces: the tasks of an execution. */
export interface PlannedTask {
  readonly operation: TaskOperation;
  readonly sourceRepository: string;
  readonly sourceReference: string;
  readonly destinationRepository: string;
  readonly destinationReference: string;
}

/** Statuses after which an execution or task does not change on its own. */
export const FINAL_STATUSES: readonly ReplicationStatus[] = ['succeeded', 'failed', 'stopped', 'skipped'];
