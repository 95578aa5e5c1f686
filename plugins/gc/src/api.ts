import { ApiError, Type, type ManagementApi } from '@wharf/sdk';
import type { GcService } from './service.js';
import { GC_SORTS, type RunRecord } from './store.js';

/**
 * `/api/v1/system/gc...`: run now (or a dry run), the history with progress and logs, stop,
 * and the schedule. System administrators only (`system` resource `gc`).
 */

const Counts = {
  candidates: Type.Integer({ description: 'Unreferenced blobs older than the grace window.' }),
  heldBack: Type.Integer({ description: 'Unreferenced blobs left besides the candidates: spared by the grace window (or in use again). Why a run may free nothing.' }),
  blobsDeleted: Type.Integer({ description: 'Blobs deleted (dry run: that would be).' }),
  blobsKept: Type.Integer({ description: 'Candidates found in use again (pushed, mounted, referenced) when the kernel looked under its locks.' }),
  bytesFreed: Type.Integer({ description: 'Bytes freed (dry run: that would be).' }),
  artifactsDeleted: Type.Integer({ description: 'Untagged artifacts deleted (dry run: that would be).' }),
  uploadsPurged: Type.Integer({ description: 'Idle uploads cancelled (dry run: that would be).' }),
};

const RunSchema = Type.Object(
  {
    id: Type.Integer(),
    status: Type.Union(['queued', 'running', 'succeeded', 'failed', 'stopped'].map((s) => Type.Literal(s))),
    trigger: Type.Union([Type.Literal('api'), Type.Literal('schedule'), Type.Literal('cli')]),
    requestedBy: Type.Union([Type.String(), Type.Null()]),
    dryRun: Type.Boolean(),
    deleteUntagged: Type.Boolean(),
    untaggedOlderThanDays: Type.Integer(),
    workers: Type.Integer(),
    graceWindowMinutes: Type.Integer(),
    phase: Type.Union([Type.String(), Type.Null()], { description: 'While running: uploads, untagged or sweep.' }),
    ...Counts,
    requestedAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'GcRun', additionalProperties: false },
);

const RunBody = Type.Object(
  {
    dryRun: Type.Optional(Type.Boolean({ description: 'Only count what would go, and the bytes it would free.' })),
    deleteUntagged: Type.Optional(Type.Boolean({ description: 'Also delete untagged artifacts (default: the config).' })),
    untaggedOlderThanDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 36_500 })),
    workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
    graceWindowMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 525_600 })),
  },
  { additionalProperties: false },
);

const LogSchema = Type.Object({ at: Type.String({ format: 'date-time' }), message: Type.String() }, { $id: 'GcLogLine', additionalProperties: false });
const ScheduleSchema = Type.Object(
  {
    cron: Type.Union([Type.String(), Type.Null()], { description: 'Cron (UTC), null: on demand only.' }),
    source: Type.Union([Type.Literal('config'), Type.Literal('api')]),
    updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    updatedBy: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'GcSchedule', additionalProperties: false },
);
const ScheduleBody = Type.Object({ cron: Type.Union([Type.String({ minLength: 9, maxLength: 100 }), Type.Null()]) }, { additionalProperties: false });
const RunParams = Type.Object({ gc_id: Type.Integer({ minimum: 1 }) });

const GC = { resource: { type: 'system', name: 'gc' } } as const;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function runView(r: RunRecord) {
  return {
    id: r.id,
    status: r.status,
    trigger: r.trigger,
    requestedBy: r.requestedBy,
    ...r.options,
    phase: r.phase,
    candidates: r.candidates,
    heldBack: r.heldBack,
    blobsDeleted: r.blobsDeleted,
    blobsKept: r.blobsKept,
    bytesFreed: r.bytesFreed,
    artifactsDeleted: r.artifactsDeleted,
    uploadsPurged: r.uploadsPurged,
    requestedAt: r.requestedAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    error: r.error,
  };
}

export function registerGcApi(api: ManagementApi, service: GcService): void {
  const found = async (id: number) => {
    const run = await service.store.get(id);
    if (!run) throw new ApiError('NOT_FOUND', `no garbage collection ${id}`);
    return run;
  };

  api.operation({
    operationId: 'startGc',
    method: 'POST',
    path: '/system/gc',
    tag: 'gc',
    summary: 'Collect garbage now (or a dry run)',
    description:
      'Queues a collection through the jobs service; pushes, pulls and mounts go on while it runs. Options default to `extensions.gc`. Answers 202 with the run; follow it at its `Location`. System administrators only.',
    body: RunBody,
    response: RunSchema,
    status: 202,
    async handler(req) {
      await req.authorize({ ...GC, action: 'create' });
      const run = await service.request({ trigger: 'api', requestedBy: req.principal.subject, options: req.body });
      req.setHeader('Location', `/api/v1/system/gc/${run.id}`);
      req.logger.info({ gc: run.id, dryRun: run.options.dryRun, by: req.principal.subject }, 'garbage collection requested');
      return runView(run);
    },
  });

  api.operation({
    operationId: 'listGc',
    method: 'GET',
    path: '/system/gc',
    tag: 'gc',
    summary: 'The history of collections',
    description: `Newest first unless \`sort=\` says otherwise, with what each freed. The last \`extensions.gc.historyKeep\` runs are kept. System administrators only.`,
    list: true,
    sorts: Object.keys(GC_SORTS),
    response: RunSchema,
    async handler(req) {
      await req.authorize({ ...GC, action: 'list' });
      const { items, total } = await service.store.list(req.page.page, req.page.pageSize, req.page.sort);
      return { items: items.map(runView), total };
    },
  });

  api.operation({
    operationId: 'getGcSchedule',
    method: 'GET',
    path: '/system/gc/schedule',
    tag: 'gc',
    summary: 'The collection schedule in force',
    response: ScheduleSchema,
    async handler(req) {
      await req.authorize({ ...GC, action: 'read' });
      const s = await service.schedule();
      return { ...s, updatedAt: iso(s.updatedAt) };
    },
  });

  api.operation({
    operationId: 'setGcSchedule',
    method: 'PUT',
    path: '/system/gc/schedule',
    tag: 'gc',
    summary: 'Set the collection schedule',
    description: 'A cron (UTC; 5 fields, or 6 with seconds first) or null for on demand only. Overrides `extensions.gc.schedule` on every node. Scheduled runs use the config\'s options.',
    body: ScheduleBody,
    response: ScheduleSchema,
    async handler(req) {
      await req.authorize({ ...GC, action: 'update' });
      try {
        await service.setSchedule(req.body.cron, req.principal.subject);
      } catch (err) {
        if (err instanceof TypeError) throw new ApiError('BAD_REQUEST', err.message);
        throw err;
      }
      const s = await service.schedule();
      return { ...s, updatedAt: iso(s.updatedAt) };
    },
  });

  api.operation({
    operationId: 'getGc',
    method: 'GET',
    path: '/system/gc/{gc_id}',
    tag: 'gc',
    summary: 'One collection: status and progress',
    params: RunParams,
    response: RunSchema,
    async handler(req) {
      await req.authorize({ ...GC, action: 'read' });
      return runView(await found(req.params.gc_id));
    },
  });

  api.operation({
    operationId: 'getGcLog',
    method: 'GET',
    path: '/system/gc/{gc_id}/log',
    tag: 'gc',
    summary: "A collection's log",
    params: RunParams,
    response: Type.Array(LogSchema),
    async handler(req) {
      await req.authorize({ ...GC, action: 'read' });
      await found(req.params.gc_id);
      return (await service.store.logs(req.params.gc_id)).map((l) => ({ at: l.at.toISOString(), message: l.message }));
    },
  });

  api.operation({
    operationId: 'stopGc',
    method: 'POST',
    path: '/system/gc/{gc_id}/stop',
    tag: 'gc',
    summary: 'Stop a queued or running collection',
    description: 'It stops after the batch in hand; blobs it claimed are finished by the next run. 409 when it is not queued or running.',
    params: RunParams,
    response: RunSchema,
    async handler(req) {
      await req.authorize({ ...GC, action: 'stop' });
      await found(req.params.gc_id);
      if (!(await service.stop(req.params.gc_id))) throw new ApiError('CONFLICT', `garbage collection ${req.params.gc_id} is not queued or running`);
      return runView(await found(req.params.gc_id));
    },
  });
}
