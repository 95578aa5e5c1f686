import { setTimeout as sleep } from 'node:timers/promises';
import type { Target } from './oci-http.js';
import type { Credentials } from './server.js';
import { api } from './wharf-api.js';

/**
 * Replication through Wharf's management API, as an operator drives it: registry endpoints,
 * policies, executions and their tasks.
 */

export interface ExecutionView {
  id: number;
  policyId: number;
  trigger: string;
  status: string;
  statusText: string;
  tasks: { total: number; pending: number; running: number; succeeded: number; failed: number; stopped: number; skipped: number };
  bytes: number;
}

export interface TaskView {
  id: number;
  operation: string;
  source: string;
  destination: string;
  status: string;
  attempts: number;
  bytes: number;
  digest: string | null;
  error: string | null;
}

export async function createEndpoint(
  wharf: Target, name: string, url: string, credentials?: Credentials,
): Promise<{ id: number; name: string }> {
  const body = { name, type: 'oci', url, ...(credentials ? { username: credentials.username, secret: credentials.password } : {}) };
  return (await api(wharf, 'POST', '/registries', body, { expect: 201 })).json as { id: number; name: string };
}

export async function createPolicy(wharf: Target, body: Record<string, unknown>): Promise<{ id: number; name: string }> {
  return (await api(wharf, 'POST', '/replication/policies', body, { expect: 201 })).json as { id: number; name: string };
}

/** Starts a manual execution; resolves its id. */
export async function runPolicy(wharf: Target, policy: number | string): Promise<number> {
  return ((await api(wharf, 'POST', '/replication/executions', { policy }, { expect: 201 })).json as ExecutionView).id;
}

export async function getExecution(wharf: Target, id: number): Promise<ExecutionView> {
  return (await api(wharf, 'GET', `/replication/executions/${id}`, undefined, { expect: 200 })).json as ExecutionView;
}

export async function listExecutions(wharf: Target, policyId: number): Promise<ExecutionView[]> {
  return (await api(wharf, 'GET', `/replication/executions?policy_id=${policyId}&page_size=100`, undefined, { expect: 200 })).json as ExecutionView[];
}

export async function listTasks(wharf: Target, executionId: number): Promise<TaskView[]> {
  return (await api(wharf, 'GET', `/replication/executions/${executionId}/tasks?page_size=100`, undefined, { expect: 200 })).json as TaskView[];
}

export async function taskLog(wharf: Target, executionId: number, taskId: number): Promise<string[]> {
  const res = await api(wharf, 'GET', `/replication/executions/${executionId}/tasks/${taskId}/log`, undefined, { expect: 200 });
  return (res.json as { lines: { message: string }[] }).lines.map((l) => l.message);
}

const FINAL = ['succeeded', 'failed', 'stopped'];

/** Polls an execution until it is final (or `until` holds); fails with its tasks after `timeoutMs`. */
export async function waitForExecution(
  wharf: Target, id: number, opts: { timeoutMs?: number; until?: (e: ExecutionView) => boolean } = {},
): Promise<ExecutionView> {
  const until = opts.until ?? ((e: ExecutionView) => FINAL.includes(e.status));
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const execution = await getExecution(wharf, id);
    if (until(execution)) return execution;
    if (Date.now() > deadline) {
      const tasks = await listTasks(wharf, id).catch(() => []);
      throw new Error(`execution ${id} did not get there in time: ${JSON.stringify(execution)}\ntasks: ${JSON.stringify(tasks, null, 2)}`);
    }
    await sleep(200);
  }
}

/** Polls the executions of a policy until `count` exist and all are final. */
export async function waitForExecutions(wharf: Target, policyId: number, count: number, timeoutMs = 60_000): Promise<ExecutionView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const executions = await listExecutions(wharf, policyId);
    if (executions.length >= count && executions.every((e) => FINAL.includes(e.status))) return executions;
    if (Date.now() > deadline) throw new Error(`policy ${policyId}: expected ${count} finished execution(s), have ${JSON.stringify(executions)}`);
    await sleep(200);
  }
}
