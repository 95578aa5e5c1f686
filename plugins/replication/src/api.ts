import { ApiError, eventContextOf, managementEvent, Type, type ApiAction, type ApiRequest, type ManagementApi, type Static } from '@wharf/sdk';
import {
  EndpointBody,
  EndpointSchema,
  ExecutionSchema,
  IdParams,
  PingBody,
  PingResult,
  PolicyBody,
  PolicySchema,
  StartExecutionBody,
  TaskLogSchema,
  TaskParams,
  TaskSchema,
} from './api-schemas.js';
import type { Endpoint, Execution, Policy, Task } from './model.js';
import { validateEndpoint, validatePolicy } from './validation.js';
import type { Replication } from './replication.js';
import { DuplicateNameError, EndpointInUseError, LIST_SORTS } from './store.js';

/**
 * The replication API (Harbor's `/registries` and `/replication/...`): registry endpoints,
 * policies, executions (start, stop, resume) and their tasks and logs. System administrators
 * only, as in Harbor: every operation asks RBAC about a `system` resource.
 */

type Req = ApiRequest<unknown, unknown, unknown>;

const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

export function endpointView(e: Endpoint): Static<typeof EndpointSchema> {
  return {
    id: e.id, name: e.name, description: e.description, type: e.type, url: e.url, username: e.username ?? null,
    hasSecret: e.hasSecret, insecure: e.insecure, caCertificate: e.caCertificate ?? null,
    createdAt: e.createdAt.toISOString(), updatedAt: e.updatedAt.toISOString(),
  };
}

function policyView(p: Policy, endpoint: string): Static<typeof PolicySchema> {
  return {
    id: p.id, name: p.name, description: p.description, mode: p.mode, endpoint, filters: { repositories: [...p.filters.repositories], tags: [...p.filters.tags] },
    destinationNamespace: p.destinationNamespace ?? null, flatten: p.flatten, trigger: p.trigger, cron: p.cron ?? null,
    replicateDeletion: p.replicateDeletion, override: p.override, bandwidthKbps: p.bandwidthKbps, chunkSize: p.chunkSize ?? null,
    enabled: p.enabled, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString(),
  };
}

export function executionView(e: Execution): Static<typeof ExecutionSchema> {
  return {
    id: e.id, policyId: e.policyId, trigger: e.trigger, status: e.status, statusText: e.statusText, tasks: { ...e.tasks },
    bytes: e.bytes, startedAt: e.startedAt.toISOString(), finishedAt: iso(e.finishedAt),
  };
}

export function taskView(t: Task): Static<typeof TaskSchema> {
  return {
    id: t.id, executionId: t.executionId, operation: t.operation,
    source: `${t.sourceRepository}:${t.sourceReference}`, destination: `${t.destinationRepository}:${t.destinationReference}`,
    status: t.status, attempts: t.attempts, bytes: t.bytes, digest: t.digest ?? null, error: t.error ?? null,
    startedAt: iso(t.startedAt), finishedAt: iso(t.finishedAt),
  };
}

/** Management events of the replication API, recorded with the change. */
const EVENTS = {
  registry: { created: managementEvent('registry', 'created'), updated: managementEvent('registry', 'updated'), deleted: managementEvent('registry', 'deleted') },
  policy: {
    created: managementEvent('replication-policy', 'created'),
    updated: managementEvent('replication-policy', 'updated'),
    deleted: managementEvent('replication-policy', 'deleted'),
  },
} as const;

/** Store refusals in the API's terms. */
async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DuplicateNameError) throw new ApiError('CONFLICT', err.message);
    if (err instanceof EndpointInUseError) throw new ApiError('PRECONDITION_FAILED', err.message);
    throw err;
  }
}

export function registerReplicationOperations(api: ManagementApi, replication: () => Replication): void {
  const may = (resource: 'registry' | 'replication', action: ApiAction) => (req: Req) =>
    req.authorize({ resource: { type: 'system', name: resource }, action });
  const store = () => replication().store;
  const engine = () => replication().engine;
  const id = (req: Req) => (req.params as { id: number }).id;
  /** Runs a store change and records its management event in the same transaction. */
  function recorded<T>(req: Req, kind: keyof typeof EVENTS, action: 'created' | 'updated' | 'deleted', change: (s: ReturnType<typeof store>) => Promise<T>, name: (r: T) => string | undefined): Promise<T> {
    return mapped(() => replication().transaction(async (s, publish) => {
      const result = await change(s);
      const changed = name(result);
      if (changed !== undefined) {
        const resource = kind === 'registry' ? 'registry' : 'replication-policy';
        await publish({ type: EVENTS[kind][action], partition: `${resource}:${changed}`, data: { resource, id: changed }, ...eventContextOf(req.principal, req.request) });
      }
      return result;
    }));
  }

  async function endpointOr404(req: Req): Promise<Endpoint> {
    const endpoint = await store().getEndpoint(id(req));
    if (!endpoint) throw new ApiError('NOT_FOUND', `registry endpoint ${id(req)} not found`);
    return endpoint;
  }
  async function policyOr404(req: Req): Promise<Policy> {
    const policy = await store().getPolicy(id(req));
    if (!policy) throw new ApiError('NOT_FOUND', `replication policy ${id(req)} not found`);
    return policy;
  }
  async function executionOr404(executionId: number): Promise<Execution> {
    const execution = await store().getExecution(executionId);
    if (!execution) throw new ApiError('NOT_FOUND', `replication execution ${executionId} not found`);
    return execution;
  }
  async function policyOut(p: Policy) {
    return policyView(p, (await store().getEndpoint(p.endpointId))?.name ?? String(p.endpointId));
  }

  // Registry endpoints

  api.operation({
    operationId: 'listRegistries', method: 'GET', path: '/registries', tag: 'registries', summary: 'List registry endpoints',
    list: true, response: EndpointSchema, filters: ['name'], sorts: Object.keys(LIST_SORTS.registries),
    async handler(req) {
      await may('registry', 'list')(req);
      const page = await store().listEndpoints(req.page, req.page.filters['name']?.value);
      return { items: page.items.map(endpointView), total: page.total };
    },
  });

  api.operation({
    operationId: 'createRegistry', method: 'POST', path: '/registries', tag: 'registries', summary: 'Add a registry endpoint',
    description: 'The secret is stored encrypted and never returned.', body: EndpointBody, response: EndpointSchema, status: 201,
    async handler(req) {
      await may('registry', 'create')(req);
      const input = validateEndpoint(req.body, replication().adapters());
      const endpoint = await recorded(req, 'registry', 'created', (s) => s.createEndpoint(input), (e) => e.name);
      req.setHeader('Location', `/api/v1/registries/${endpoint.id}`);
      req.logger.info({ endpoint: endpoint.name, url: endpoint.url }, 'registry endpoint created');
      return endpointView(endpoint);
    },
  });

  api.operation({
    operationId: 'pingRegistryEndpoint', method: 'POST', path: '/registries/ping', tag: 'registries', summary: 'Check an unsaved endpoint',
    body: PingBody, response: PingResult,
    async handler(req) {
      await may('registry', 'create')(req);
      const input = validateEndpoint({ name: 'ping', ...req.body }, replication().adapters());
      return replication().ping(input);
    },
  });

  api.operation({
    operationId: 'getRegistry', method: 'GET', path: '/registries/{id}', tag: 'registries', summary: 'A registry endpoint',
    params: IdParams, response: EndpointSchema,
    async handler(req) {
      await may('registry', 'read')(req);
      return endpointView(await endpointOr404(req));
    },
  });

  api.operation({
    operationId: 'updateRegistry', method: 'PUT', path: '/registries/{id}', tag: 'registries', summary: 'Change a registry endpoint',
    params: IdParams, body: EndpointBody, response: EndpointSchema,
    async handler(req) {
      await may('registry', 'update')(req);
      const input = validateEndpoint(req.body, replication().adapters());
      const endpoint = await recorded(req, 'registry', 'updated', (s) => s.updateEndpoint(id(req), input), (e) => e?.name);
      if (!endpoint) throw new ApiError('NOT_FOUND', `registry endpoint ${id(req)} not found`);
      return endpointView(endpoint);
    },
  });

  api.operation({
    operationId: 'deleteRegistry', method: 'DELETE', path: '/registries/{id}', tag: 'registries', summary: 'Remove a registry endpoint',
    description: 'Refused (412) while a replication policy or a proxy-cache project uses it.', params: IdParams,
    async handler(req) {
      await may('registry', 'delete')(req);
      const endpoint = await endpointOr404(req);
      await mapped(() => store().refuseIfUsedElsewhere(endpoint.id));
      if (!(await recorded(req, 'registry', 'deleted', (s) => s.deleteEndpoint(endpoint.id), (ok) => (ok ? endpoint.name : undefined)))) {
        throw new ApiError('NOT_FOUND', `registry endpoint ${id(req)} not found`);
      }
      return undefined;
    },
  });

  api.operation({
    operationId: 'pingRegistry', method: 'POST', path: '/registries/{id}/ping', tag: 'registries', summary: 'Check a saved endpoint',
    description: 'Connects with the stored credentials; `ok: false` carries the reason.', params: IdParams, response: PingResult,
    async handler(req) {
      await may('registry', 'read')(req);
      return replication().pingEndpoint(await endpointOr404(req));
    },
  });

  // Policies

  api.operation({
    operationId: 'listReplicationPolicies', method: 'GET', path: '/replication/policies', tag: 'replication', summary: 'List replication policies',
    list: true, response: PolicySchema, filters: ['name'], sorts: Object.keys(LIST_SORTS.policies),
    async handler(req) {
      await may('replication', 'list')(req);
      const page = await store().listPolicies(req.page, req.page.filters['name']?.value);
      return { items: await Promise.all(page.items.map(policyOut)), total: page.total };
    },
  });

  api.operation({
    operationId: 'createReplicationPolicy', method: 'POST', path: '/replication/policies', tag: 'replication', summary: 'Add a replication policy',
    body: PolicyBody, response: PolicySchema, status: 201,
    async handler(req) {
      await may('replication', 'create')(req);
      const input = await validatePolicy(req.body, store());
      const policy = await recorded(req, 'policy', 'created', (s) => s.createPolicy(input, req.principal.subject), (p) => p.name);
      await engine().syncSchedule(policy, policy.id);
      req.setHeader('Location', `/api/v1/replication/policies/${policy.id}`);
      req.logger.info({ policy: policy.name, mode: policy.mode, trigger: policy.trigger }, 'replication policy created');
      return policyOut(policy);
    },
  });

  api.operation({
    operationId: 'getReplicationPolicy', method: 'GET', path: '/replication/policies/{id}', tag: 'replication', summary: 'A replication policy',
    params: IdParams, response: PolicySchema,
    async handler(req) {
      await may('replication', 'read')(req);
      return policyOut(await policyOr404(req));
    },
  });

  api.operation({
    operationId: 'updateReplicationPolicy', method: 'PUT', path: '/replication/policies/{id}', tag: 'replication', summary: 'Change a replication policy',
    params: IdParams, body: PolicyBody, response: PolicySchema,
    async handler(req) {
      await may('replication', 'update')(req);
      await policyOr404(req);
      const input = await validatePolicy(req.body, store());
      const policy = await recorded(req, 'policy', 'updated', (s) => s.updatePolicy(id(req), input), (p) => p?.name);
      if (!policy) throw new ApiError('NOT_FOUND', `replication policy ${id(req)} not found`);
      await engine().syncSchedule(policy, policy.id);
      return policyOut(policy);
    },
  });

  api.operation({
    operationId: 'deleteReplicationPolicy', method: 'DELETE', path: '/replication/policies/{id}', tag: 'replication', summary: 'Remove a replication policy',
    description: 'Removes its schedule and its execution history; refused (412) while an execution runs.', params: IdParams,
    async handler(req) {
      await may('replication', 'delete')(req);
      const policy = await policyOr404(req);
      const running = await store().listExecutions({ page: 1, pageSize: 1 }, policy.id);
      if (running.items.some((e) => ['pending', 'running', 'stopping'].includes(e.status))) {
        throw new ApiError('PRECONDITION_FAILED', `policy ${policy.name} has a running execution: stop it first`);
      }
      await engine().syncSchedule(undefined, policy.id);
      await recorded(req, 'policy', 'deleted', (s) => s.deletePolicy(policy.id), (ok) => (ok ? policy.name : undefined));
      return undefined;
    },
  });

  // Executions and tasks

  api.operation({
    operationId: 'listReplicationExecutions', method: 'GET', path: '/replication/executions', tag: 'replication', summary: 'List executions, newest first',
    list: true, response: ExecutionSchema, sorts: Object.keys(LIST_SORTS.executions), query: Type.Object({ policy_id: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
    async handler(req) {
      await may('replication', 'list')(req);
      const page = await store().listExecutions(req.page, (req.query as { policy_id?: number }).policy_id);
      return { items: page.items.map(executionView), total: page.total };
    },
  });

  api.operation({
    operationId: 'startReplicationExecution', method: 'POST', path: '/replication/executions', tag: 'replication', summary: 'Run a policy now',
    description: 'Starts a manual execution; it runs in the background (poll the execution).', body: StartExecutionBody, response: ExecutionSchema, status: 201,
    async handler(req) {
      await may('replication', 'create')(req);
      const ref = req.body.policy;
      const policy = typeof ref === 'number' ? await store().getPolicy(ref) : await store().getPolicyByName(ref);
      if (!policy) throw new ApiError('NOT_FOUND', `replication policy ${String(ref)} not found`);
      if (!policy.enabled) throw new ApiError('PRECONDITION_FAILED', `replication policy ${policy.name} is disabled`);
      const executionId = await engine().start(policy, 'manual');
      req.setHeader('Location', `/api/v1/replication/executions/${executionId}`);
      req.logger.info({ policy: policy.name, execution: executionId }, 'replication started');
      return executionView(await executionOr404(executionId));
    },
  });

  api.operation({
    operationId: 'getReplicationExecution', method: 'GET', path: '/replication/executions/{id}', tag: 'replication', summary: 'An execution',
    params: IdParams, response: ExecutionSchema,
    async handler(req) {
      await may('replication', 'read')(req);
      return executionView(await executionOr404(id(req)));
    },
  });

  api.operation({
    operationId: 'stopReplicationExecution', method: 'POST', path: '/replication/executions/{id}/stop', tag: 'replication', summary: 'Stop an execution',
    description: 'Queued tasks never run; running ones are aborted. The answer may say `stopping` until they end.', params: IdParams, response: ExecutionSchema,
    async handler(req) {
      await may('replication', 'update')(req);
      const execution = await executionOr404(id(req));
      if (!['pending', 'running', 'stopping'].includes(execution.status)) {
        throw new ApiError('PRECONDITION_FAILED', `execution ${execution.id} is ${execution.status}, not running`);
      }
      return executionView((await engine().stop(execution.id)) ?? execution);
    },
  });

  api.operation({
    operationId: 'resumeReplicationExecution', method: 'POST', path: '/replication/executions/{id}/resume', tag: 'replication', summary: 'Resume a stopped or failed execution',
    description: 'Runs again the tasks that did not succeed; tasks already done are not redone.', params: IdParams, response: ExecutionSchema,
    async handler(req) {
      await may('replication', 'update')(req);
      const execution = await executionOr404(id(req));
      if (!['stopped', 'failed'].includes(execution.status)) {
        throw new ApiError('PRECONDITION_FAILED', `execution ${execution.id} is ${execution.status}: only stopped or failed executions resume`);
      }
      return executionView((await engine().resume(execution.id)) ?? execution);
    },
  });

  api.operation({
    operationId: 'listReplicationTasks', method: 'GET', path: '/replication/executions/{id}/tasks', tag: 'replication', summary: 'Tasks of an execution',
    list: true, params: IdParams, response: TaskSchema, filters: ['status'], sorts: Object.keys(LIST_SORTS.tasks),
    async handler(req) {
      await may('replication', 'read')(req);
      await executionOr404(id(req));
      const page = await store().listTasks(id(req), req.page, req.page.filters['status']?.value);
      return { items: page.items.map(taskView), total: page.total };
    },
  });

  api.operation({
    operationId: 'getReplicationTaskLog', method: 'GET', path: '/replication/executions/{id}/tasks/{task_id}/log', tag: 'replication', summary: 'A task\'s log',
    params: TaskParams, response: TaskLogSchema,
    async handler(req) {
      await may('replication', 'read')(req);
      const { id: executionId, task_id: taskId } = req.params as { id: number; task_id: number };
      const task = await store().getTask(taskId);
      if (!task || task.executionId !== executionId) throw new ApiError('NOT_FOUND', `task ${taskId} of execution ${executionId} not found`);
      const lines = await store().taskLog(taskId);
      return { lines: lines.map((l) => ({ at: l.at.toISOString(), message: l.message })) };
    },
  });
}
