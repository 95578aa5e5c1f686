import {
  isRegistryError,
  retentionEvents,
  retentionPartition,
  type ArtifactInfo,
  type ArtifactService,
  type ContentService,
  type DatabaseService,
  type EventService,
  type JobContext,
  type JobService,
  type Logger,
  type Principal,
} from '@wharf/sdk';
import { deletionOrder, describeRule, evaluateRepository, rulesCovering, type CompiledRule, type Verdict } from './evaluate.js';
import type { Decision, Execution, ExecutionTrigger, RetentionRule } from './model.js';
import { compileRules } from './selectors.js';
import type { Counts, RetentionStore } from './store.js';

/**
 * Runs retention executions: one durable job per execution walks the project's repositories,
 * opens one task per repository its rules cover, decides per artifact (evaluate.ts), deletes
 * through `coreServices.content` (so the policy gates and the registry's events apply) and
 * records every decision. A gate refusing a delete (immutability) is recorded as `protected`
 * and the run goes on. The final status and the `retention.execution.finished` event commit in
 * one transaction. Everything lives in the database; the job carries only the execution id.
 */

export const JOB_RUN = 'tag-retention.run';
export const JOB_SCHEDULED = 'tag-retention.scheduled';
const scheduleName = (project: string) => `tag-retention-${project}`;
const runKey = (executionId: number) => `tag-retention-run-${executionId}`;

/** Who deletes: the plugin, as the gates and the registry's events see it. */
export const RETENTION_PRINCIPAL: Principal = Object.freeze({ subject: 'tag-retention', kind: 'system', provider: 'tag-retention', admin: true, groups: Object.freeze([]) as readonly string[] });

export interface RunnerDeps {
  readonly store: RetentionStore;
  readonly database: DatabaseService;
  readonly events: EventService;
  readonly jobs: JobService;
  readonly artifacts: ArtifactService;
  readonly content: ContentService;
  readonly logger: Logger;
  readonly keepExecutions: number;
  /** The clock; tests move it. */
  readonly now?: () => Date;
}

/** Thrown inside a run when its execution was asked to stop. */
class Stopped extends Error {}
/** Thrown inside a run when its job's signal aborts without a stop (the node shuts down): the job runs again. */
class Interrupted extends Error {}

/** A run refused because the project has one pending or running. */
export class ExecutionActiveError extends Error {
  constructor(readonly project: string, readonly executionId: number) {
    super(`project ${project} has a retention execution in progress (${executionId})`);
    this.name = 'ExecutionActiveError';
  }
}

export class RetentionRunner {
  constructor(private readonly deps: RunnerDeps) {}

  /** Declares the job types. Call once, before the kernel seals. */
  install(): void {
    this.deps.jobs.define<{ executionId: number }>(JOB_RUN, (ctx) => this.runJob(ctx), { concurrency: 1, maxAttempts: 3 });
    this.deps.jobs.define<{ project: string }>(JOB_SCHEDULED, async (ctx) => {
      const policy = await this.deps.store.getPolicy(ctx.payload.project);
      if (!policy?.cron) return;
      try {
        await this.start(policy.project, { trigger: 'scheduled', dryRun: false, rules: policy.rules, by: undefined });
      } catch (err) {
        if (!(err instanceof ExecutionActiveError)) throw err;
        ctx.logger.info({ project: policy.project, executionId: err.executionId }, 'scheduled retention skipped: one is in progress');
      }
    });
  }

  async syncSchedule(project: string, cron: string | undefined): Promise<void> {
    if (cron) await this.deps.jobs.schedule(scheduleName(project), cron, JOB_SCHEDULED, { project });
    else await this.deps.jobs.unschedule(scheduleName(project));
  }

  /** Every scheduled policy's schedule (at boot; upserts, so every node may do it). */
  async syncAllSchedules(): Promise<void> {
    for (const policy of await this.deps.store.scheduledPolicies()) await this.syncSchedule(policy.project, policy.cron);
  }

  /**
   * Records an execution and queues its job; `inline` runs it here instead (the CLI). One
   * execution per project at a time: another pending or running one is an {@link ExecutionActiveError}.
   */
  async start(project: string, input: { trigger: ExecutionTrigger; dryRun: boolean; rules: readonly RetentionRule[]; by: string | undefined }, inline = false): Promise<Execution> {
    const active = await this.deps.store.activeExecution(project);
    if (active) throw new ExecutionActiveError(project, active.id);
    const execution = await this.deps.store.createExecution({ project, trigger: input.trigger, dryRun: input.dryRun, rules: input.rules, startedBy: input.by });
    if (inline) await this.execute(execution.id, new AbortController().signal);
    else await this.deps.jobs.enqueue(JOB_RUN, { executionId: execution.id }, { key: runKey(execution.id) });
    return (await this.deps.store.getExecution(execution.id))!;
  }

  /** Stops an execution: a queued one never runs, a running one ends after its current artifact. */
  async stop(executionId: number): Promise<Execution | undefined> {
    const { store, jobs } = this.deps;
    if (await this.finish(executionId, 'stopped', ['pending'], 'stopped before it started')) {
      await jobs.cancelByKey(runKey(executionId));
    } else if (await store.transition(executionId, 'stopping', ['running'], 'stopping')) {
      await jobs.cancelByKey(runKey(executionId));
    }
    return store.getExecution(executionId);
  }

  private async runJob(ctx: JobContext<{ executionId: number }>): Promise<void> {
    try {
      await this.execute(ctx.payload.executionId, ctx.signal);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (await this.isStopping(ctx.payload.executionId)) {
        await this.finish(ctx.payload.executionId, 'stopped', ['stopping'], `stopped: ${message}`.slice(0, 2048));
        return;
      }
      // Interrupted (the node shut down) or a passing failure: the job runs again, here or on another node.
      if (ctx.attempt < ctx.maxAttempts) throw err;
      await this.finish(ctx.payload.executionId, 'failed', ['pending', 'running', 'stopping'], `failed: ${message}`.slice(0, 2048));
      this.deps.logger.error({ executionId: ctx.payload.executionId, err: message }, 'retention execution failed');
    }
  }

  private async isStopping(executionId: number): Promise<boolean> {
    return (await this.deps.store.getExecution(executionId))?.status === 'stopping';
  }

  /** Runs an execution to its end (idempotent: tasks already finished are kept). */
  async execute(executionId: number, signal: AbortSignal): Promise<void> {
    const { store, artifacts } = this.deps;
    const started = await store.getExecution(executionId);
    // A stopping execution whose job died (or was never picked up again) is finished as stopped below.
    if (!started || !['pending', 'running', 'stopping'].includes(started.status)) return;
    await store.transition(executionId, 'running', ['pending'], 'running');
    const rules = compileRules(started.rules);
    // The status is read too: a stop asked through another node reaches this one that way.
    const checkStop = async () => {
      if (await this.isStopping(executionId)) throw new Stopped();
      if (signal.aborted) throw new Interrupted('interrupted: the node is shutting down');
    };
    let stopped = false;
    try {
      for (let page = 1; ; page++) {
        const found = await artifacts.findRepositories({ namespace: started.project, page, pageSize: 1000 });
        for (const repo of found.items) {
          const covering = rulesCovering(rules, repo.name.slice(started.project.length + 1));
          if (covering.length === 0) continue;
          await checkStop();
          await this.runTask(started, repo.name, covering, checkStop);
        }
        if (found.items.length === 0 || page * 1000 >= found.total) break;
      }
    } catch (err) {
      if (!(err instanceof Stopped)) throw err;
      stopped = true;
    }
    const failed = await store.failedTasks(executionId);
    const counts = await store.executionCounts(executionId);
    const summary = `${counts.deleted} ${started.dryRun ? 'would be deleted' : 'deleted'}, ${counts.retained} retained of ${counts.total}${failed ? `; ${failed} repositories failed` : ''}`;
    await this.finish(executionId, stopped ? 'stopped' : failed > 0 ? 'failed' : 'succeeded', ['running', 'stopping'], stopped ? `stopped: ${summary}` : summary);
  }

  private async runTask(execution: Execution, repository: string, rules: CompiledRule[], checkStop: () => Promise<void>): Promise<void> {
    const { store } = this.deps;
    const task = await store.openTask(execution.id, repository);
    if (task.status === 'succeeded' || task.status === 'failed') return;
    // A task interrupted by a crash starts over: its decisions are recomputed from what is there now.
    await store.clearDecisions(task.id);
    const counts = { total: 0, retained: 0, deleted: 0 };
    const record = async (d: Decision) => {
      await store.addDecision(task.id, d);
      if (d.outcome === 'deleted' || d.outcome === 'would-delete') counts.deleted++;
      else if (d.outcome !== 'failed') counts.retained++;
    };
    let failures = 0;
    try {
      const all = await this.listArtifacts(repository);
      counts.total = all.length;
      const verdicts = evaluateRepository(rules, all, this.deps.now?.() ?? new Date());
      const retained = verdicts.filter((x) => x.keep).map((v) => decision(v, 'retained', v.reason));
      await store.addDecisions(task.id, retained);
      counts.retained += retained.length;
      const held = new Set<string>();
      for (const v of deletionOrder(verdicts)) {
        await checkStop();
        const heldBy = v.parents.find((p) => held.has(p));
        if (heldBy) {
          held.add(v.artifact.digest);
          await record(decision(v, 'retained', `kept with ${heldBy}, which was not deleted`));
          continue;
        }
        if (execution.dryRun) {
          await record(decision(v, 'would-delete', v.reason));
          continue;
        }
        const outcome = await this.delete(repository, v);
        if (outcome.outcome !== 'deleted') held.add(v.artifact.digest);
        if (outcome.outcome === 'failed') failures++;
        await record(outcome);
      }
    } catch (err) {
      // Left running: the job's next run recomputes this task from what the repository holds.
      if (err instanceof Interrupted) throw err;
      if (err instanceof Stopped) {
        await store.finishTask(task.id, 'stopped', counts);
        await store.setExecutionCounts(execution.id, await store.executionCounts(execution.id));
        throw err;
      }
      await store.finishTask(task.id, 'failed', counts, err instanceof Error ? err.message : String(err));
      return;
    }
    await store.finishTask(task.id, failures > 0 ? 'failed' : 'succeeded', counts, failures > 0 ? `${failures} deletes failed` : undefined);
    await store.setExecutionCounts(execution.id, await store.executionCounts(execution.id));
  }

  private async listArtifacts(repository: string): Promise<ArtifactInfo[]> {
    const all: ArtifactInfo[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.artifacts.listArtifacts(repository, { limit: 1000, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return all;
  }

  /** One delete through the content service; a gate's refusal is `protected`, not a failure. */
  private async delete(repository: string, v: Verdict): Promise<Decision> {
    try {
      await this.deps.content.deleteManifest(repository, v.artifact.digest, { principal: RETENTION_PRINCIPAL });
      return decision(v, 'deleted', v.reason);
    } catch (err) {
      if (isRegistryError(err) && err.code === 'MANIFEST_UNKNOWN') return decision(v, 'deleted', `${v.reason} (already gone)`);
      if (isRegistryError(err) && (err.code === 'DENIED' || err.status === 403 || err.status === 409)) return decision(v, 'protected', `kept: protected (${err.message})`);
      const message = err instanceof Error ? err.message : String(err);
      this.deps.logger.warn({ repository, digest: v.artifact.digest, err: message }, 'retention delete failed');
      return decision(v, 'failed', `delete failed: ${message}`);
    }
  }

  /** Moves an execution to a final status with its counts and records the event, in one transaction. */
  private async finish(executionId: number, status: 'succeeded' | 'failed' | 'stopped', from: Execution['status'][], text: string): Promise<boolean> {
    const { database, events, store: root } = this.deps;
    const done = await database.transaction(async (trx) => {
      const store = root.using(trx);
      const counts: Counts = await store.executionCounts(executionId);
      await store.setExecutionCounts(executionId, counts);
      if (!(await store.transition(executionId, status, from, text))) return undefined;
      const execution = (await store.getExecution(executionId))!;
      const deletedArtifacts = await store.deletedArtifacts(executionId, 100);
      await events.publish(
        {
          type: retentionEvents.finished,
          partition: retentionPartition(execution.project),
          actor: { subject: execution.startedBy ?? RETENTION_PRINCIPAL.subject, kind: execution.startedBy ? 'user' : 'system', provider: 'tag-retention' },
          data: {
            project: execution.project, executionId, trigger: execution.trigger, dryRun: execution.dryRun, status,
            startedAt: execution.startedAt.toISOString(), finishedAt: (execution.finishedAt ?? new Date()).toISOString(),
            total: counts.total, retained: counts.retained, deleted: counts.deleted,
            rules: compileRules(execution.rules).map((r) => ({
              template: r.rule.template, params: r.rule.value === undefined ? {} : { [r.rule.template]: r.rule.value },
              repositories: r.rule.repositories.map((x) => ({ ...x })), tags: r.rule.tags.map((x) => ({ ...x })), untagged: r.rule.untagged,
            })),
            deletedArtifacts,
          },
        },
        { transaction: trx },
      );
      return execution;
    });
    if (!done) return false;
    this.deps.logger.info({ project: done.project, executionId, status, dryRun: done.dryRun }, 'retention execution finished');
    await this.deps.store.pruneExecutions(done.project, this.deps.keepExecutions);
    return true;
  }
}

function decision(v: Verdict, outcome: Decision['outcome'], reason: string): Decision {
  return { digest: v.artifact.digest, tags: v.artifact.tags, outcome, reason };
}

export { describeRule };
