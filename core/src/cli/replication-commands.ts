import { setTimeout as sleep } from 'node:timers/promises';
import type { Replication } from '../replication/index.js';
import type { Execution } from '../replication/model.js';
import { executionView, taskView } from '../replication/api.js';
import { allPages, CliRefusal, formatTable, stdoutLine, withKernel, type KernelCommandOptions } from './plugin-service.js';

/**
 * `wharf replication run|executions|tasks`: the replication engine on the configured database.
 * The command only records and queues work: the registry's nodes run the jobs (this process
 * starts no job workers), so `run --wait` needs a running `wharf serve` on the same database.
 */

function withReplication(opts: KernelCommandOptions, fn: (replication: Replication) => Promise<number>): Promise<number> {
  return withKernel(opts, (kernel) => fn(kernel.replication()));
}

const FINAL = ['succeeded', 'failed', 'stopped'];

function summary(e: Execution): string {
  const t = e.tasks;
  return `execution ${e.id}: ${e.status} (${t.succeeded} succeeded, ${t.failed} failed, ${t.stopped} stopped, ${t.skipped} skipped of ${t.total}; ${e.bytes} bytes)`;
}

export interface ReplicationRunOptions extends KernelCommandOptions {
  readonly wait?: boolean | undefined;
  /** Seconds `--wait` waits at most. */
  readonly timeout?: string | undefined;
  readonly json?: boolean | undefined;
}

export function replicationRunCommand(policyRef: string, opts: ReplicationRunOptions): Promise<number> {
  return withReplication(opts, async ({ store, engine }) => {
    const policy = /^\d+$/.test(policyRef) ? await store.getPolicy(Number(policyRef)) : await store.getPolicyByName(policyRef);
    if (!policy) throw new CliRefusal(undefined, `replication policy ${policyRef} not found`);
    if (!policy.enabled) throw new CliRefusal(undefined, `replication policy ${policy.name} is disabled`);
    const id = await engine.start(policy, 'manual');
    let execution = (await store.getExecution(id))!;
    if (!opts.wait) {
      if (opts.json) stdoutLine(JSON.stringify(executionView(execution), null, 2));
      else stdoutLine(`execution ${id} of policy ${policy.name} started`);
      return 0;
    }
    const timeoutSeconds = opts.timeout === undefined ? 3600 : Number(opts.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new CliRefusal(undefined, '--timeout must be a positive number of seconds');
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (!FINAL.includes(execution.status)) {
      if (Date.now() > deadline) throw new CliRefusal(undefined, `${summary(execution)}: still running after ${timeoutSeconds} s (is a wharf serve running on this database?)`);
      await sleep(500);
      execution = (await store.getExecution(id))!;
    }
    stdoutLine(opts.json ? JSON.stringify(executionView(execution), null, 2) : summary(execution));
    return execution.status === 'succeeded' ? 0 : 1;
  });
}

export function replicationExecutionsCommand(opts: KernelCommandOptions & { readonly policy?: string | undefined; readonly json?: boolean | undefined }): Promise<number> {
  return withReplication(opts, async ({ store }) => {
    let policyId: number | undefined;
    if (opts.policy) {
      const policy = /^\d+$/.test(opts.policy) ? await store.getPolicy(Number(opts.policy)) : await store.getPolicyByName(opts.policy);
      if (!policy) throw new CliRefusal(undefined, `replication policy ${opts.policy} not found`);
      policyId = policy.id;
    }
    const all = await allPages((page, pageSize) => store.listExecutions({ page, pageSize }, policyId));
    if (opts.json) {
      stdoutLine(JSON.stringify(all.map(executionView), null, 2));
      return 0;
    }
    const names = new Map<number, string>();
    for (const e of all) if (!names.has(e.policyId)) names.set(e.policyId, (await store.getPolicy(e.policyId))?.name ?? String(e.policyId));
    stdoutLine(formatTable(
      ['ID', 'POLICY', 'TRIGGER', 'STATUS', 'DONE', 'FAILED', 'BYTES', 'STARTED'],
      all.map((e) => [String(e.id), names.get(e.policyId) ?? '', e.trigger, e.status, `${e.tasks.succeeded}/${e.tasks.total}`, String(e.tasks.failed), String(e.bytes), e.startedAt.toISOString()]),
    ));
    return 0;
  });
}

export function replicationTasksCommand(execution: string, opts: KernelCommandOptions & { readonly json?: boolean | undefined }): Promise<number> {
  return withReplication(opts, async ({ store }) => {
    if (!/^\d+$/.test(execution)) throw new CliRefusal(undefined, `execution must be a number, got "${execution}"`);
    const id = Number(execution);
    if (!(await store.getExecution(id))) throw new CliRefusal(undefined, `replication execution ${id} not found`);
    const all = await allPages((page, pageSize) => store.listTasks(id, { page, pageSize }));
    if (opts.json) {
      stdoutLine(JSON.stringify(all.map(taskView), null, 2));
      return 0;
    }
    stdoutLine(formatTable(
      ['ID', 'OPERATION', 'SOURCE', 'DESTINATION', 'STATUS', 'ATTEMPTS', 'BYTES', 'ERROR'],
      all.map((t) => [String(t.id), t.operation, `${t.sourceRepository}:${t.sourceReference}`, `${t.destinationRepository}:${t.destinationReference}`, t.status, String(t.attempts), String(t.bytes), t.error ?? '']),
    ));
    return 0;
  });
}
