import {
  isPermanentJobError,
  isReplicationTargetError,
  PermanentJobError,
  RegistryError,
  ReplicationTargetError,
  isEventOf,
  registryEvents,
  replicationEvents,
  replicationPartition,
  type EventEnvelope,
  type EventService,
  type JobContext,
  type JobService,
  type ManifestDeletedData,
  type ManifestPushedData,
  type ReplicationStatus,
  type ReplicationTarget,
  type ReplicationTargetService,
  type ProjectProvisioningService,
  type ReplicationStatusEvent,
} from '@wharf/sdk';
import type { Knex } from '@wharf/sdk';
import type { Logger } from '@wharf/sdk';
import { copyArtifact, MountHints } from './copier.js';
import { compileSourceFilters, type SourceMatchers } from './filters.js';
import { DestinationNameError, destinationRepository } from './flatten.js';
import type { Endpoint, Execution, ExecutionEvent, ExecutionTrigger, PlannedTask, Policy, Task } from './model.js';
import type { ReplicationStore } from './store.js';
import { createThrottle, isUnlimited } from './throttle.js';

/**
 * The replication engine: turns policies into executions, executions into one task per
 * artifact, and runs each task as a durable job, so a crash or restart resumes where it was.
 * Every state lives in the database (see store.ts); jobs only carry ids.
 */

export const JOB_PLAN = 'replication.plan';
export const JOB_TASK = 'replication.task';
export const JOB_SCHEDULED = 'replication.scheduled';
/** The durable consumer that starts event-triggered executions. */
export const TRIGGER_CONSUMER = 'replication-trigger';

export interface EngineSettings {
  /** Tasks running at once on one node. */
  readonly taskConcurrency: number;
  /** Runs of a task before it fails (the first counts). */
  readonly taskAttempts: number;
  /** Delay before a task's first retry (doubles each time). */
  readonly retryBackoffMs: number;
  /** Finished executions kept per policy. */
  readonly keepExecutions: number;
}

export interface EngineDeps {
  readonly store: ReplicationStore;
  readonly jobs: JobService;
  readonly events: EventService;
  readonly targets: ReplicationTargetService;
  readonly local: ReplicationTarget;
  readonly logger: Logger;
  readonly settings: EngineSettings;
}

const REFERRERS_TAG = /^sha(256|512)-[a-f0-9]{64}(?:[a-f0-9]{64})?$/;
const scheduleName = (policyId: number) => `replication-policy-${policyId}`;
const taskKey = (taskId: number) => `replication-task-${taskId}`;
const planKey = (executionId: number) => `replication-plan-${executionId}`;

export class ReplicationEngine {
  /** Per endpoint: where the destination holds which blob, to mount instead of upload. */
  readonly #mounts = new Map<number, MountHints>();
  /** Creates the destination projects of pulls, when an RBAC plugin with projects is loaded. */
  #projects: ProjectProvisioningService | undefined;

  constructor(private readonly deps: EngineDeps) {}

  /** Called from the plugin's init with the optional `projectServices.provisioning`. */
  useProjects(projects: ProjectProvisioningService | undefined): void {
    this.#projects = projects;
  }

  /** Declares the job types and subscribes to the registry's events. Call once, before the kernel seals. */
  install(): void {
    const { jobs, settings } = this.deps;
    jobs.define<{ executionId: number }>(JOB_PLAN, (ctx) => this.plan(ctx), { concurrency: 2, maxAttempts: 5, backoffMs: settings.retryBackoffMs });
    jobs.define<{ taskId: number }>(JOB_TASK, (ctx) => this.runTask(ctx), {
      concurrency: settings.taskConcurrency, maxAttempts: settings.taskAttempts, backoffMs: settings.retryBackoffMs,
    });
    jobs.define<{ policyId: number }>(JOB_SCHEDULED, async (ctx) => {
      const policy = await this.deps.store.getPolicy(ctx.payload.policyId);
      if (policy?.enabled) await this.start(policy, 'scheduled');
    });
    // Durable: an acknowledged push starts its replication even if the node dies right after.
    this.deps.events.subscribe({
      name: TRIGGER_CONSUMER,
      types: [registryEvents.manifestPushed, registryEvents.manifestDeleted, registryEvents.tagDeleted],
      concurrency: 4,
      handle: async ({ event }) => this.onEvent(event),
    });
  }

  /** Opens a target for an endpoint through the adapter registered for its type. */
  async open(endpoint: Endpoint): Promise<ReplicationTarget> {
    const credentials = await this.deps.store.credentialsOf(endpoint.id);
    return this.deps.targets.open({
      name: endpoint.name, type: endpoint.type, url: endpoint.url, credentials, insecure: endpoint.insecure, caCertificate: endpoint.caCertificate,
    });
  }

  /** Keeps the job schedule of a policy in step with it (after create, update, delete). */
  async syncSchedule(policy: Policy | undefined, policyId: number): Promise<void> {
    if (policy && policy.enabled && policy.trigger === 'scheduled' && policy.cron) {
      await this.deps.jobs.schedule(scheduleName(policyId), policy.cron, JOB_SCHEDULED, { policyId });
    } else {
      await this.deps.jobs.unschedule(scheduleName(policyId));
    }
  }

  /** Schedules every enabled scheduled policy (at boot; upserts, so every node may do it). */
  async syncAllSchedules(): Promise<void> {
    for (const policy of await this.deps.store.enabledPolicies({ trigger: 'scheduled' })) await this.syncSchedule(policy, policy.id);
  }

  /**
   * Starts an execution of a policy; resolves its id once it is durably queued. An event's id
   * makes it idempotent: the same event starts one execution per policy, however often it comes.
   */
  async start(policy: Policy, trigger: ExecutionTrigger, event?: ExecutionEvent, eventId?: string): Promise<number> {
    const { id, created } = await this.deps.store.transaction(async (store, trx) => {
      const made = await store.createExecution(policy.id, trigger, event, eventId);
      if (made.created) await this.record(store, made.id, trx);
      return made;
    });
    if (created) await this.emit(policy, id, 'pending');
    await this.deps.jobs.enqueue(JOB_PLAN, { executionId: id }, { key: planKey(id) });
    return id;
  }

  /** Stops an execution: queued tasks never run, running ones are aborted. */
  async stop(executionId: number): Promise<Execution | undefined> {
    const { store, jobs } = this.deps;
    const moved = await this.transition(executionId, 'stopping', ['pending', 'running']);
    if (moved) {
      const pending = await store.setTasksStatus(executionId, 'stopped', ['pending']);
      for (const id of pending) await jobs.cancelByKey(taskKey(id));
      for (const id of await store.taskIds(executionId, ['running'])) await jobs.cancelByKey(taskKey(id));
      await jobs.cancelByKey(planKey(executionId));
      await this.finalize(executionId);
    }
    return store.getExecution(executionId);
  }

  /** Resumes a stopped or failed execution: only tasks that did not succeed run again. */
  async resume(executionId: number): Promise<Execution | undefined> {
    const { store, jobs } = this.deps;
    const execution = await store.getExecution(executionId);
    if (!execution || !(await this.transition(executionId, 'running', ['stopped', 'failed'], 'resumed'))) return execution;
    const policy = await store.getPolicy(execution.policyId);
    if (policy) await this.emit(policy, executionId, 'running');
    if (!execution.planned) {
      await jobs.enqueue(JOB_PLAN, { executionId }, { key: planKey(executionId) });
      return store.getExecution(executionId);
    }
    const ids = await store.setTasksStatus(executionId, 'pending', ['stopped', 'failed', 'running']);
    for (const id of ids) await jobs.enqueue(JOB_TASK, { taskId: id }, { key: taskKey(id) });
    await this.finalize(executionId);
    return store.getExecution(executionId);
  }

  // Jobs

  /** Lists what to copy (or the one artifact of an event) and queues a job per task. */
  private async plan(ctx: JobContext<{ executionId: number }>): Promise<void> {
    const { store, jobs } = this.deps;
    const id = ctx.payload.executionId;
    const execution = await store.getExecution(id);
    if (!execution || !['pending', 'running'].includes(execution.status)) return;
    const policy = await store.getPolicy(execution.policyId);
    if (!policy) return;
    if (await this.transition(id, 'running', ['pending'])) await this.emit(policy, id, 'running');
    try {
      if (!execution.planned) {
        const tasks = await this.listTasks(policy, execution, ctx.signal);
        await store.addTasks(id, tasks);
        await store.markPlanned(id);
        await ctx.log(`planned ${tasks.length} task(s)`);
      }
    } catch (err) {
      const message = errorText(err);
      if (ctx.attempt < ctx.maxAttempts && isRetryable(err) && !ctx.signal.aborted) throw err;
      if (await this.transition(id, 'failed', ['running', 'pending'], `planning failed: ${message}`)) await this.emit(policy, id, 'failed');
      throw new PermanentJobError(message, { cause: err });
    }
    for (const taskId of await store.taskIds(id, ['pending'])) {
      ctx.signal.throwIfAborted();
      await jobs.enqueue(JOB_TASK, { taskId }, { key: taskKey(taskId) });
    }
    await this.finalize(id);
  }

  private async listTasks(policy: Policy, execution: Execution, signal: AbortSignal): Promise<PlannedTask[]> {
    const matchers = compiled(policy);
    const toDestination = (repository: string) =>
      destinationRepository(repository, { namespace: policy.destinationNamespace, flatten: policy.flatten });
    if (execution.event) {
      const { operation, repository, reference } = execution.event;
      return [{ operation, sourceRepository: repository, sourceReference: reference, destinationRepository: toDestination(repository), destinationReference: reference }];
    }
    const endpoint = await this.endpointOf(policy);
    const source = policy.mode === 'push' ? this.deps.local : await this.open(endpoint);
    const tasks: PlannedTask[] = [];
    try {
      for await (const repository of literalRepositories(policy) ?? source.listRepositories()) {
        signal.throwIfAborted();
        if (!matchers.repository(repository)) continue;
        for (const tag of await source.listTags(repository)) {
          // `sha256-<hex>` tags index referrers on registries without the referrers API: they follow their subject.
          if (REFERRERS_TAG.test(tag) || !matchers.tag(tag)) continue;
          tasks.push({ operation: 'copy', sourceRepository: repository, sourceReference: tag, destinationRepository: toDestination(repository), destinationReference: tag });
        }
      }
    } finally {
      if (source !== this.deps.local) await source.close?.();
    }
    return tasks;
  }

  /** Copies (or deletes) one artifact. Idempotent: a task run twice finds its work done. */
  private async runTask(ctx: JobContext<{ taskId: number }>): Promise<void> {
    const { store } = this.deps;
    const task = await store.getTask(ctx.payload.taskId);
    if (!task || !['pending', 'running'].includes(task.status)) return;
    const execution = await store.getExecution(task.executionId);
    const policy = execution && (await store.getPolicy(execution.policyId));
    if (!execution || !policy) return;
    if (execution.status === 'stopping' || execution.status === 'stopped') {
      await store.setTaskStatus(task.id, 'stopped', ['pending', 'running']);
      await this.finalize(execution.id);
      return;
    }
    if (!(await store.setTaskStatus(task.id, 'running', ['pending', 'running'], { attempt: true }))) return;
    await this.emitTask(policy, task, 'running');
    const log = async (message: string) => {
      await store.appendLog(task.id, message);
    };
    await log(`attempt ${ctx.attempt} of ${ctx.maxAttempts}: ${describe(task)}`);
    let target: ReplicationTarget | undefined;
    try {
      const endpoint = await this.endpointOf(policy);
      target = await this.open(endpoint);
      const [source, destination] = policy.mode === 'push' ? [this.deps.local, target] : [target, this.deps.local];
      if (policy.mode === 'pull' && task.operation === 'copy') await this.ensureProject(policy, task, log);
      if (task.operation === 'delete') {
        await destination.deleteManifest(task.destinationRepository, task.destinationReference);
        await log(`deleted ${task.destinationRepository}:${task.destinationReference}`);
        await this.finishTask(policy, task, 'succeeded', { bytes: 0 });
        return;
      }
      const result = await copyArtifact(
        { target: source, repository: task.sourceRepository, reference: task.sourceReference },
        { target: destination, repository: task.destinationRepository, reference: task.destinationReference },
        {
          override: policy.override,
          chunkSize: policy.chunkSize,
          throttle: isUnlimited(policy.bandwidthKbps) ? undefined : () => createThrottle({ kibPerSecond: policy.bandwidthKbps, signal: ctx.signal }),
          signal: ctx.signal,
          log,
          mounts: this.mountsOf(policy.mode === 'push' ? endpoint.id : 0),
        },
      );
      await log(`done: ${result.outcome}, ${result.bytes} bytes copied`);
      await this.finishTask(policy, task, result.outcome === 'kept' ? 'skipped' : 'succeeded', { bytes: result.bytes, digest: result.digest });
    } catch (err) {
      await this.taskFailed(ctx, policy, task, err);
    } finally {
      await target?.close?.().catch(() => undefined);
    }
  }

  private async taskFailed(ctx: JobContext<{ taskId: number }>, policy: Policy, task: Task, err: unknown): Promise<void> {
    const { store } = this.deps;
    const message = errorText(err);
    if (ctx.signal.aborted) {
      const execution = await store.getExecution(task.executionId);
      if (execution?.status === 'stopping' || execution?.status === 'stopped') {
        await store.appendLog(task.id, 'stopped');
        await this.finishTask(policy, task, 'stopped', { error: 'stopped' });
        return;
      }
      // The node is shutting down: the job service hands the job to a node that stays.
      await store.setTaskStatus(task.id, 'pending', ['running']);
      throw err;
    }
    if (ctx.attempt < ctx.maxAttempts && isRetryable(err)) {
      await store.appendLog(task.id, `failed: ${message}; retrying`);
      await store.setTaskStatus(task.id, 'pending', ['running'], { error: message });
      throw err;
    }
    await store.appendLog(task.id, `failed: ${message}`);
    await this.finishTask(policy, task, 'failed', { error: message });
    throw new PermanentJobError(message, { cause: err });
  }

  private async finishTask(policy: Policy, task: Task, status: ReplicationStatus, fields: { bytes?: number; digest?: string; error?: string }): Promise<void> {
    await this.deps.store.setTaskStatus(task.id, status, ['running', 'pending'], { ...fields, error: fields.error ?? null });
    await this.emitTask(policy, task, status, fields.error, fields.bytes);
    await this.finalize(task.executionId);
  }

  /** Ends an execution once it is planned and none of its tasks is left to run. */
  private async finalize(executionId: number): Promise<void> {
    const { store } = this.deps;
    const execution = await store.getExecution(executionId);
    if (!execution || !['running', 'stopping'].includes(execution.status)) return;
    const { tasks } = execution;
    if (execution.status === 'running' && (!execution.planned || tasks.pending + tasks.running > 0)) return;
    if (execution.status === 'stopping' && tasks.running > 0) return;
    const status: ReplicationStatus = execution.status === 'stopping' ? 'stopped' : tasks.failed > 0 ? 'failed' : 'succeeded';
    const text = `${tasks.succeeded} succeeded, ${tasks.failed} failed, ${tasks.stopped} stopped, ${tasks.skipped} skipped of ${tasks.total}`;
    if (!(await this.transition(executionId, status, [execution.status], text))) return;
    const policy = await store.getPolicy(execution.policyId);
    if (policy) {
      await this.emit(policy, executionId, status);
      await store.pruneExecutions(policy.id, this.deps.settings.keepExecutions).catch((err: unknown) =>
        this.deps.logger.warn({ err, policy: policy.name }, 'pruning replication history failed'));
    }
  }

  // Events

  private async onEvent(event: EventEnvelope): Promise<void> {
    if (isEventOf(registryEvents.manifestPushed, event)) await this.onPushed(event.data, event.id);
    else if (isEventOf(registryEvents.manifestDeleted, event) || isEventOf(registryEvents.tagDeleted, event)) await this.onDeleted(event.data, event.id);
  }

  private async onPushed(e: ManifestPushedData, eventId: string): Promise<void> {
    // Index children arrive by digest before their index; the index push carries them.
    const reference = e.tag ?? (e.subject ? e.digest : undefined);
    if (!reference) return;
    for (const policy of await this.deps.store.enabledPolicies({ mode: 'push', trigger: 'event' })) {
      const m = compiled(policy);
      if (!m.repository(e.repository) || (e.tag !== undefined && !m.tag(e.tag))) continue;
      await this.start(policy, 'event', { operation: 'copy', repository: e.repository, reference }, eventId);
    }
  }

  private async onDeleted(e: ManifestDeletedData, eventId: string): Promise<void> {
    const reference = e.tag ?? e.digest;
    for (const policy of await this.deps.store.enabledPolicies({ mode: 'push', trigger: 'event' })) {
      if (!policy.replicateDeletion) continue;
      const m = compiled(policy);
      if (!m.repository(e.repository) || (e.tag !== undefined && !m.tag(e.tag))) continue;
      await this.start(policy, 'event', { operation: 'delete', repository: e.repository, reference }, eventId);
    }
  }

  // Helpers

  private async endpointOf(policy: Policy): Promise<Endpoint> {
    const endpoint = await this.deps.store.getEndpoint(policy.endpointId);
    if (!endpoint) throw new PermanentJobError(`policy ${policy.name}: its registry endpoint ${policy.endpointId} is gone`);
    return endpoint;
  }

  /**
   * A pull writes repositories into this registry: their project must exist, or they belong to
   * none (invisible to project listings, only administrators reach them). As Harbor does, the
   * missing project is created, private, owned by the policy's creator.
   */
  private async ensureProject(policy: Policy, task: Task, log: (message: string) => Promise<void>): Promise<void> {
    const slash = task.destinationRepository.indexOf('/');
    if (!this.#projects || slash < 0) return;
    const project = task.destinationRepository.slice(0, slash);
    if (await this.#projects.ensureProject(project, { owner: policy.createdBy })) {
      await log(`created project ${project} (private${policy.createdBy ? `, owner ${policy.createdBy}` : ''})`);
    }
  }

  private mountsOf(endpointId: number): MountHints {
    let hints = this.#mounts.get(endpointId);
    if (!hints) this.#mounts.set(endpointId, (hints = new MountHints()));
    return hints;
  }

  /**
   * Moves an execution to `status` (compare-and-set) and records `replication.status.changed`
   * in the same transaction: the status and its event commit together.
   */
  private async transition(executionId: number, status: ReplicationStatus, from: readonly ReplicationStatus[], text?: string): Promise<boolean> {
    return this.deps.store.transaction(async (store, trx) => {
      if (!(await store.setExecutionStatus(executionId, status, from, text))) return false;
      await this.record(store, executionId, trx);
      return true;
    });
  }

  /** Records the execution's current status as a durable event (skipped when nobody subscribes). */
  private async record(store: ReplicationStore, executionId: number, trx: Knex.Transaction): Promise<void> {
    const { events } = this.deps;
    if (!events.hasSubscribers(replicationEvents.statusChanged)) return;
    const execution = await store.getExecution(executionId);
    const policy = execution && (await store.getPolicy(execution.policyId));
    if (!execution || !policy) return;
    const endpoint = await store.getEndpoint(policy.endpointId);
    const { tasks } = execution;
    await events.publish({
      type: replicationEvents.statusChanged,
      partition: replicationPartition(policy.id),
      actor: { subject: 'replication', kind: 'system', provider: 'replication' },
      data: {
        policyId: policy.id, policyName: policy.name, executionId, status: execution.status, trigger: execution.trigger,
        mode: policy.mode, endpoint: endpoint?.name ?? '', startedAt: execution.startedAt.toISOString(),
        ...(execution.finishedAt ? { finishedAt: execution.finishedAt.toISOString() } : {}),
        total: tasks.total, succeeded: tasks.succeeded, failed: tasks.failed, stopped: tasks.stopped, skipped: tasks.skipped,
        bytes: execution.bytes, statusText: execution.statusText,
        ...(localProject(policy) ? { project: localProject(policy) } : {}),
      },
    }, { transaction: trx });
  }

  private async emit(policy: Policy, executionId: number, status: ReplicationStatus): Promise<void> {
    this.fire({ kind: 'execution', policyId: policy.id, policyName: policy.name, executionId, status });
  }

  private async emitTask(policy: Policy, task: Task, status: ReplicationStatus, error?: string, bytes?: number): Promise<void> {
    this.fire({
      kind: 'task', policyId: policy.id, policyName: policy.name, executionId: task.executionId, taskId: task.id, status,
      source: `${task.sourceRepository}:${task.sourceReference}`, destination: `${task.destinationRepository}:${task.destinationReference}`,
      ...(error ? { error } : {}),
      ...(bytes !== undefined ? { bytes } : {}),
    });
  }

  /** Status events never slow down or fail replication. */
  private fire(event: Omit<ReplicationStatusEvent, 'id' | 'timestamp'>): void {
    void this.deps.targets.statusChanged({ id: crypto.randomUUID(), timestamp: new Date(), ...event });
  }
}

/**
 * When every include pattern on repositories is a plain name (no `*`, `?`, `{`, `[` and not a
 * regex), those names are the candidates: no catalog listing, which registries such as Docker
 * Hub do not offer. Excludes still apply through the matcher.
 */
function literalRepositories(policy: Policy): string[] | undefined {
  const includes = policy.filters.repositories.filter((p) => p.decision === 'include');
  if (includes.length === 0 || includes.some((p) => p.kind !== 'glob' || /[*?{}[\]\\]/.test(p.pattern))) return undefined;
  return [...new Set(includes.map((p) => p.pattern))];
}

/**
 * The local project a policy's repositories live in, when one can be named: a pull's destination
 * namespace, else the literal first segment all its include patterns share (`library/**`).
 */
export function localProject(policy: Policy): string | undefined {
  if (policy.mode === 'pull' && policy.destinationNamespace) return policy.destinationNamespace.split('/')[0] || undefined;
  const includes = policy.filters.repositories.filter((p) => p.decision === 'include');
  if (includes.length === 0 || includes.some((p) => p.kind !== 'glob')) return undefined;
  const firsts = new Set(includes.map((p) => (p.pattern.includes('/') ? p.pattern.split('/')[0] : '')));
  const [first] = [...firsts];
  return firsts.size === 1 && first && !/[*?{}[\]\\]/.test(first) ? first : undefined;
}

/** Compiled filters of a policy (validated when the policy was saved). */
function compiled(policy: Policy): SourceMatchers {
  const result = compileSourceFilters(policy.filters);
  if (!result.ok) throw new PermanentJobError(`policy ${policy.name}: ${result.errors.join('; ')}`);
  return result.value;
}

function describe(task: Task): string {
  const verb = task.operation === 'delete' ? 'delete' : 'copy';
  return `${verb} ${task.sourceRepository}:${task.sourceReference} -> ${task.destinationRepository}:${task.destinationReference}`;
}

/** Unreachable registries and server errors are retried; refusals and bad content are not. */
function isRetryable(err: unknown): boolean {
  if (isPermanentJobError(err) || err instanceof RegistryError || err instanceof DestinationNameError) return false;
  if (isReplicationTargetError(err)) return (err as ReplicationTargetError).retryable;
  return true;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
