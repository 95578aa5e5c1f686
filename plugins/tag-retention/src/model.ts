import type { Digest, RepositorySelector, TagSelector } from '@wharf/sdk';

/**
 * The retention model: a project's policy (rules and an optional schedule), executions of it,
 * one task per repository an execution covered, and one decision per artifact of a task.
 */

/** Harbor's rule templates (`latestPushedK` ... `always`), with their one parameter. */
export const TEMPLATES = Object.freeze({
  latestPushedK: { param: 'latestPushedK', describe: (n: number) => `the ${n} most recently pushed` },
  latestPulledN: { param: 'latestPulledN', describe: (n: number) => `the ${n} most recently pulled` },
  nDaysSinceLastPush: { param: 'nDaysSinceLastPush', describe: (n: number) => `pushed within ${n} days` },
  nDaysSinceLastPull: { param: 'nDaysSinceLastPull', describe: (n: number) => `pulled within ${n} days` },
  always: { param: undefined, describe: () => 'always' },
} as const);
export type Template = keyof typeof TEMPLATES;

export interface RetentionRule {
  readonly template: Template;
  /** K, N or days; absent for `always`. */
  readonly value?: number | undefined;
  /**
   * Repository names inside the project (`app`, `team/**`), as Harbor matches them: selected
   * when one `repoMatches` selector matches (or there is none) and no `repoExcludes` does.
   */
  readonly repositories: readonly RepositorySelector[];
  /** Tags, the same way with `matches` and `excludes`. */
  readonly tags: readonly TagSelector[];
  /** Untagged artifacts are candidates of this rule too. */
  readonly untagged: boolean;
  readonly disabled: boolean;
}

export interface RetentionPolicy {
  readonly project: string;
  readonly rules: readonly RetentionRule[];
  /** Cron (5 fields, or 6 with seconds first, UTC); undefined: runs only on demand. */
  readonly cron: string | undefined;
  readonly updatedAt: Date;
  readonly updatedBy: string | undefined;
}

export type ExecutionStatus = 'pending' | 'running' | 'stopping' | 'succeeded' | 'failed' | 'stopped';
export const FINAL_STATUSES: readonly ExecutionStatus[] = ['succeeded', 'failed', 'stopped'];
export type ExecutionTrigger = 'manual' | 'scheduled';

export interface Execution {
  readonly id: number;
  readonly project: string;
  readonly trigger: ExecutionTrigger;
  readonly dryRun: boolean;
  readonly status: ExecutionStatus;
  readonly statusText: string;
  /** The rules as they were when the execution started. */
  readonly rules: readonly RetentionRule[];
  readonly total: number;
  readonly retained: number;
  readonly deleted: number;
  readonly startedAt: Date;
  readonly finishedAt: Date | undefined;
  readonly startedBy: string | undefined;
}

export type TaskStatus = 'running' | 'succeeded' | 'failed' | 'stopped';

export interface Task {
  readonly id: number;
  readonly executionId: number;
  readonly repository: string;
  readonly status: TaskStatus;
  readonly total: number;
  readonly retained: number;
  readonly deleted: number;
  readonly error: string | undefined;
  readonly startedAt: Date;
  readonly finishedAt: Date | undefined;
}

/**
 * What happened to one artifact: `retained` by a rule (or with its index or subject),
 * `protected` (a policy gate such as immutability refused the delete), `deleted` (`would delete`
 * in a dry run), or `failed` (the delete failed otherwise).
 */
export type Outcome = 'retained' | 'protected' | 'deleted' | 'would-delete' | 'failed';

export interface Decision {
  readonly digest: Digest;
  readonly tags: readonly string[];
  readonly outcome: Outcome;
  readonly reason: string;
}
