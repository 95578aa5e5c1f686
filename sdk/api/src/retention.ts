import { defineEventType } from './durable-events.js';

/**
 * What `retention.execution.finished` carries: one tag retention execution of a project's
 * policy that reached a final status, with its counts and the artifacts it deleted (or, for a
 * dry run, would have deleted). Recorded by the tag retention plugin in the transaction that
 * marks the execution final, so a consumer (webhooks' `TAG_RETENTION`) hears of every
 * execution exactly as the API shows it.
 * @see docs/architecture/24-tag-retention.md
 * @since 0.2.0
 */
export interface RetentionFinishedData {
  /** The project whose policy ran. */
  readonly project: string;
  readonly executionId: number;
  readonly trigger: 'manual' | 'scheduled';
  readonly dryRun: boolean;
  readonly status: 'succeeded' | 'failed' | 'stopped';
  readonly startedAt: string;
  readonly finishedAt: string;
  /** Artifacts evaluated in the repositories the rules cover. */
  readonly total: number;
  /** Artifacts kept (by a rule, or protected by a gate). */
  readonly retained: number;
  /** Artifacts deleted (a dry run: that would have been deleted). */
  readonly deleted: number;
  /** The rules of the policy as it ran, in Harbor's terms (template and parameters, selectors). */
  readonly rules: readonly RetentionRuleSummary[];
  /** The artifacts deleted, at most 100 (`deleted` counts them all). */
  readonly deletedArtifacts: readonly { readonly repository: string; readonly digest: string; readonly tags: readonly string[] }[];
}

/** A rule as {@link RetentionFinishedData} describes it. @since 0.2.0 */
export interface RetentionRuleSummary {
  readonly template: string;
  readonly params: Readonly<Record<string, number>>;
  /** The rule's repository selectors (`repoMatches` / `repoExcludes`). */
  readonly repositories: readonly RetentionSelectorSummary[];
  /** The rule's tag selectors (`matches` / `excludes`). */
  readonly tags: readonly RetentionSelectorSummary[];
  readonly untagged: boolean;
}

/** A selector as {@link RetentionRuleSummary} lists it. @since 0.2.0 */
export interface RetentionSelectorSummary {
  readonly kind: string;
  readonly decoration: string;
  readonly pattern: string;
}

/**
 * Tag retention event types. Partition: `retention:<project>`, so one project's executions reach
 * a consumer in order.
 * @since 0.2.0
 */
export const retentionEvents = Object.freeze({
  finished: defineEventType<RetentionFinishedData>('retention.execution.finished'),
});

/** The partition of a project's retention events. @since 0.2.0 */
export function retentionPartition(project: string): string {
  return `retention:${project}`;
}
