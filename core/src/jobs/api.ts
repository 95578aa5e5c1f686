import { ApiError, Type, type ApiRequest, type JobService, type ManagementApi } from '@wharf/sdk';

/**
 * Jobs for operators: one job's status and its log (`GET /jobs/{id}`, `GET /jobs/{id}/log`):
 * the lines of `ctx.log` and every line its attempts wrote at the node's log level, with their
 * job id, whatever plugin runs it (GC, retention, the audit purge). System administrators only
 * (RBAC resource `system/jobs`): a job's log may name repositories of every project. The
 * payload is not shown: it is the plugin's business.
 */

const Time = Type.String({ format: 'date-time' });

export const JobSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    status: Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s))),
    attempts: Type.Integer({ description: 'Runs so far (the first counts).' }),
    maxAttempts: Type.Integer(),
    error: Type.Union([Type.String(), Type.Null()], { description: 'The last failure, when there was one.' }),
    createdAt: Time,
    finishedAt: Type.Union([Time, Type.Null()]),
  },
  { $id: 'Job', additionalProperties: false },
);

export const JobLogLineSchema = Type.Object(
  {
    at: Time,
    message: Type.String({ description: 'A `ctx.log` line as written, or a log line as `LEVEL message {fields}` (already redacted).' }),
  },
  { $id: 'JobLogLine', additionalProperties: false },
);

// Job ids are the backend's: digits (embedded) or `type:number` (Redis).
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:-]+$' }) });

type Req = ApiRequest<unknown, unknown, unknown>;

export function registerJobOperations(api: ManagementApi, jobs: () => JobService): void {
  const may = (req: Req) => req.authorize({ resource: { type: 'system', name: 'jobs' }, action: 'read' });
  const jobOf = async (req: Req) => {
    const { id } = req.params as { id: string };
    const job = await jobs().get(id);
    if (!job) throw new ApiError('NOT_FOUND', `no job "${id}" (finished jobs are kept as jobs.history says)`);
    return job;
  };

  api.operation({
    operationId: 'getJob', method: 'GET', path: '/jobs/{id}', tag: 'jobs', summary: 'A job: type, status, attempts, last error',
    params: IdParams, response: JobSchema,
    async handler(req) {
      await may(req);
      const job = await jobOf(req);
      return {
        id: job.id, type: job.type, status: job.status, attempts: job.attempts, maxAttempts: job.maxAttempts, error: job.error ?? null,
        createdAt: job.createdAt.toISOString(), finishedAt: job.finishedAt ? job.finishedAt.toISOString() : null,
      };
    },
  });

  api.operation({
    operationId: 'listJobLogLines', method: 'GET', path: '/jobs/{id}/log', tag: 'jobs',
    summary: "A job's log, oldest line first: ctx.log lines and what its attempts logged",
    params: IdParams, list: true, response: JobLogLineSchema,
    async handler(req) {
      await may(req);
      const job = await jobOf(req);
      const lines = await jobs().log(job.id);
      const start = (req.page.page - 1) * req.page.pageSize;
      return { items: lines.slice(start, start + req.page.pageSize).map((l) => ({ at: l.at.toISOString(), message: l.message })), total: lines.length };
    },
  });
}
