import { setTimeout as sleep } from 'node:timers/promises';
import { CliRefusal, defineCliCommand, formatTable, type CliCommandGroup } from '@wharf/sdk';
import type { Execution } from './model.js';
import { executionView, taskView } from './api.js';
import { createProgress } from './progress.js';
import { replicationServiceRef } from './services.js';

/**
 * `wharf replication run|executions|tasks`: the replication engine on the configured database,
 * the plugin's contributed CLI commands (like `wharf project` of rbac-projects).
 * The command only records and queues work: the registry's nodes run the jobs (this process
 * starts no job workers), so `run --wait` needs a running `wharf serve` on the same database.
 */

const deps = { replication: replicationServiceRef };
const text = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const json = { flags: '--json', description: 'print JSON instead of a table' };

async function allPages<T>(list: (page: number, pageSize: number) => Promise<{ readonly items: readonly T[]; readonly total: number }>): Promise<T[]> {
  const out: T[] = [];
  for (let page = 1; ; page++) {
    const { items, total } = await list(page, 100);
    out.push(...items);
    if (items.length === 0 || out.length >= total) return out;
  }
}

const FINAL = ['succeeded', 'failed', 'stopped'];

function summary(e: Execution): string {
  const t = e.tasks;
  return `execution ${e.id}: ${e.status} (${t.succeeded} succeeded, ${t.failed} failed, ${t.stopped} stopped, ${t.skipped} skipped of ${t.total}; ${e.bytes} bytes)`;
}

const run = defineCliCommand({
  usage: 'run <policy>',
  description: 'start an execution of a policy (name or id)',
  options: [
    { flags: '--wait', description: 'wait until it finishes, showing progress on stderr; exit 1 unless it succeeded' },
    { flags: '--timeout <seconds>', description: 'how long --wait waits at most (default 3600)' },
    { flags: '--json', description: 'print the execution as JSON' },
  ],
  deps,
  async run({ replication: { store, engine } }, { args: [policyRef = ''], options, stdout: stdoutLine, stderr, progress, terminal }) {
    const opts = { wait: options['wait'] === true, json: options['json'] === true, timeout: text(options['timeout']) };
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
    const report = createProgress({ terminal: terminal === true, show: progress ?? stderr });
    while (!FINAL.includes(execution.status)) {
      report(execution);
      if (Date.now() > deadline) throw new CliRefusal(undefined, `${summary(execution)}: still running after ${timeoutSeconds} s (is a wharf serve running on this database?)`);
      await sleep(500);
      execution = (await store.getExecution(id))!;
    }
    stdoutLine(opts.json ? JSON.stringify(executionView(execution), null, 2) : summary(execution));
    return execution.status === 'succeeded' ? 0 : 1;
  },
});

const executions = defineCliCommand({
  usage: 'executions',
  description: 'list executions, newest first: id, policy, trigger, status, tasks done, bytes',
  options: [{ flags: '--policy <policy>', description: 'only the executions of this policy (name or id)' }, json],
  deps,
  async run({ replication: { store } }, { options, stdout: stdoutLine }) {
    const opts = { policy: text(options['policy']), json: options['json'] === true };
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
  },
});

const tasks = defineCliCommand({
  usage: 'tasks <execution>',
  description: 'list the tasks of an execution: source, destination, status, attempts, error',
  options: [json],
  deps,
  async run({ replication: { store } }, { args: [execution = ''], options, stdout: stdoutLine }) {
    const opts = { json: options['json'] === true };
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
  },
});

/** `wharf replication ...`. */
export const replicationCommands: CliCommandGroup = Object.freeze({
  name: 'replication',
  description: 'run replication policies and read their history (the registry nodes do the copying)',
  commands: [run, executions, tasks],
});
