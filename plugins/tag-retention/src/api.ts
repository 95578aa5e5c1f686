import { ApiError, apiStream, type ApiAction, type ApiRequest, type ManagementApi, type Static } from '@wharf/sdk';
import { ExecutionParams, ExecutionSchema, PolicyBody, PolicySchema, ProjectParams, RunBody, TaskParams, TaskSchema } from './api-schemas.js';
import type { Execution, RetentionPolicy, Task } from './model.js';
import type { Retention } from './retention.js';
import { ExecutionActiveError } from './runner.js';
import { validatePolicy } from './validation.js';

/**
 * The retention API under `/api/v1/projects/{project_name}/retention`: the project's policy
 * (get, put, delete), executions (run, with `dryRun`; list, get, stop) and their per-repository
 * tasks with logs. Access is the project's `tag-retention` resource, decided by `rbac.authorize`
 * (the projects plugin: Project Admins and Maintainers; system administrators always).
 */

type Req = ApiRequest<{ project_name: string }, unknown, unknown>;
const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

export function policyView(p: RetentionPolicy): Static<typeof PolicySchema> {
  return { project: p.project, rules: p.rules.map((r) => ({ ...r, repositories: r.repositories.map((x) => ({ ...x })), tags: r.tags.map((x) => ({ ...x })) })), cron: p.cron ?? null, updatedAt: p.updatedAt.toISOString(), updatedBy: p.updatedBy ?? null };
}

export function executionView(e: Execution): Static<typeof ExecutionSchema> {
  return {
    id: e.id, project: e.project, trigger: e.trigger, dryRun: e.dryRun, status: e.status, statusText: e.statusText,
    total: e.total, retained: e.retained, deleted: e.deleted, startedAt: e.startedAt.toISOString(), finishedAt: iso(e.finishedAt), startedBy: e.startedBy ?? null,
  };
}

export function taskView(t: Task): Static<typeof TaskSchema> {
  return {
    id: t.id, executionId: t.executionId, repository: t.repository, status: t.status, total: t.total, retained: t.retained, deleted: t.deleted,
    error: t.error ?? null, startedAt: t.startedAt.toISOString(), finishedAt: iso(t.finishedAt),
  };
}

const SEMANTICS =
  'Rules are OR-ed. A repository is covered when an enabled rule\'s repository selector matches its name inside the project; others are left alone. ' +
  'In a covered repository an artifact is kept when any rule keeps it (its tag selector accepts one of its tags, or it is untagged and the rule includes untagged artifacts, and the template keeps it); ' +
  'children of a kept index and referrers of a kept artifact are kept with it; everything else there, tagged or not, is deleted whole. ' +
  'A delete a policy gate refuses (immutability) is logged as protected and the run goes on.';

export function registerRetentionApi(api: ManagementApi, retention: () => Retention): void {
  const may = (action: ApiAction) => (req: Req) => req.authorize({ resource: { type: 'project', name: req.params.project_name, resource: 'tag-retention' }, action });
  const store = () => retention().store;
  const base = '/projects/{project_name}/retention';

  async function executionOr404(req: ApiRequest<{ project_name: string; execution_id: number }, unknown, unknown>): Promise<Execution> {
    const e = await store().getExecution(req.params.execution_id);
    if (!e || e.project !== req.params.project_name) throw new ApiError('NOT_FOUND', `retention execution ${req.params.execution_id} not found in project ${req.params.project_name}`);
    return e;
  }
  async function taskOr404(req: ApiRequest<{ project_name: string; execution_id: number; task_id: number }, unknown, unknown>): Promise<Task> {
    await executionOr404(req);
    const t = await store().getTask(req.params.execution_id, req.params.task_id);
    if (!t) throw new ApiError('NOT_FOUND', `retention task ${req.params.task_id} not found in execution ${req.params.execution_id}`);
    return t;
  }

  api.operation({
    operationId: 'getRetentionPolicy', method: 'GET', path: base, tag: 'retention', summary: "A project's tag retention policy",
    description: SEMANTICS, params: ProjectParams, response: PolicySchema,
    async handler(req) {
      await may('read')(req);
      const policy = await store().getPolicy(req.params.project_name);
      if (!policy) throw new ApiError('NOT_FOUND', `project ${req.params.project_name} has no retention policy`);
      return policyView(policy);
    },
  });

  api.operation({
    operationId: 'putRetentionPolicy', method: 'PUT', path: base, tag: 'retention', summary: "Set a project's tag retention policy",
    description: `Replaces the rules and the schedule. ${SEMANTICS}`, params: ProjectParams, body: PolicyBody, response: PolicySchema,
    async handler(req) {
      await may('update')(req);
      const { rules, cron } = validatePolicy(req.body, retention().maxRules);
      const policy = await retention().putPolicy(req.params.project_name, rules, cron, req.principal.subject);
      req.logger.info({ project: policy.project, rules: rules.length, cron: cron ?? null }, 'retention policy set');
      return policyView(policy);
    },
  });

  api.operation({
    operationId: 'deleteRetentionPolicy', method: 'DELETE', path: base, tag: 'retention', summary: "Remove a project's tag retention policy",
    description: 'Its schedule goes with it; past executions stay.', params: ProjectParams,
    async handler(req) {
      await may('delete')(req);
      if (!(await retention().deletePolicy(req.params.project_name))) throw new ApiError('NOT_FOUND', `project ${req.params.project_name} has no retention policy`);
      return undefined;
    },
  });

  api.operation({
    operationId: 'runRetention', method: 'POST', path: `${base}/executions`, tag: 'retention', summary: 'Run the policy now',
    description: 'Starts an execution of the current policy; `dryRun: true` decides and logs what would be deleted and deletes nothing. Refused (409) while another execution of the project is pending or running.',
    params: ProjectParams, body: RunBody, response: ExecutionSchema, status: 201,
    async handler(req) {
      await may('create')(req);
      const policy = await store().getPolicy(req.params.project_name);
      if (!policy) throw new ApiError('PRECONDITION_FAILED', `project ${req.params.project_name} has no retention policy`);
      const execution = await retention()
        .runner.start(policy.project, { trigger: 'manual', dryRun: req.body?.dryRun ?? false, rules: policy.rules, by: req.principal.subject })
        .catch((err: unknown) => {
          throw err instanceof ExecutionActiveError ? new ApiError('CONFLICT', err.message) : err;
        });
      req.setHeader('Location', `/api/v1/projects/${encodeURIComponent(policy.project)}/retention/executions/${execution.id}`);
      req.logger.info({ project: policy.project, execution: execution.id, dryRun: execution.dryRun }, 'retention started');
      return executionView(execution);
    },
  });

  api.operation({
    operationId: 'listRetentionExecutions', method: 'GET', path: `${base}/executions`, tag: 'retention', summary: "A project's retention executions, newest first",
    params: ProjectParams, list: true, response: ExecutionSchema,
    async handler(req) {
      await may('list')(req);
      const page = await store().listExecutions(req.params.project_name, req.page);
      return { items: page.items.map(executionView), total: page.total };
    },
  });

  api.operation({
    operationId: 'getRetentionExecution', method: 'GET', path: `${base}/executions/{execution_id}`, tag: 'retention', summary: 'A retention execution',
    params: ExecutionParams, response: ExecutionSchema,
    async handler(req) {
      await may('read')(req);
      return executionView(await executionOr404(req));
    },
  });

  api.operation({
    operationId: 'stopRetentionExecution', method: 'POST', path: `${base}/executions/{execution_id}/stop`, tag: 'retention', summary: 'Stop a retention execution',
    description: 'A queued execution never runs; a running one stops after the artifact it is on. Refused (409) once it finished.',
    params: ExecutionParams, response: ExecutionSchema,
    async handler(req) {
      await may('update')(req);
      const execution = await executionOr404(req);
      if (['succeeded', 'failed', 'stopped'].includes(execution.status)) throw new ApiError('CONFLICT', `retention execution ${execution.id} already ${execution.status}`);
      return executionView((await retention().runner.stop(execution.id)) ?? execution);
    },
  });

  api.operation({
    operationId: 'listRetentionTasks', method: 'GET', path: `${base}/executions/{execution_id}/tasks`, tag: 'retention', summary: "An execution's tasks, one per repository",
    params: ExecutionParams, list: true, response: TaskSchema,
    async handler(req) {
      await may('list')(req);
      await executionOr404(req);
      const page = await store().listTasks(req.params.execution_id, req.page);
      return { items: page.items.map(taskView), total: page.total };
    },
  });

  api.operation({
    operationId: 'getRetentionTask', method: 'GET', path: `${base}/executions/{execution_id}/tasks/{task_id}`, tag: 'retention', summary: 'A retention task',
    params: TaskParams, response: TaskSchema,
    async handler(req) {
      await may('read')(req);
      return taskView(await taskOr404(req));
    },
  });

  api.operation({
    operationId: 'getRetentionTaskLog', method: 'GET', path: `${base}/executions/{execution_id}/tasks/{task_id}/log`, tag: 'retention', summary: "A task's log: every artifact's outcome and why",
    description: 'One line per artifact: time, digest, tags, outcome (`retained`, `protected`, `deleted`, `would-delete`, `failed`) and the reason (which rule kept it, or why none did).',
    params: TaskParams, produces: ['text/plain'],
    async handler(req) {
      await may('read')(req);
      const task = await taskOr404(req);
      const decisions = await store().decisions(task.id);
      return apiStream({ contentType: 'text/plain', chunks: (async function* () {
        yield `${task.repository}: ${task.status}, ${task.total} artifacts, ${task.retained} retained, ${task.deleted} deleted\n`;
        for (const d of decisions) yield `${d.at.toISOString()} ${d.digest} [${d.tags.join(', ')}] ${d.outcome}: ${d.reason}\n`;
      })() });
    },
  });
}
