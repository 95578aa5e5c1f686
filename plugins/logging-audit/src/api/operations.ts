import { apiStream, ApiError, Type, type ApiRequest, type ManagementApi } from '@wharf/sdk';
import { PURGE_HISTORY_KEEP } from '../purge.js';
import type { AuditService } from '../service.js';
import { AuditEntrySchema, viewOf } from '../view.js';
import { exportCsv, exportJson, exportName } from './export.js';
import { decodeCursor, encodeCursor, filterOf, ProjectExportQuery, ProjectListQuery, SystemExportQuery, SystemListQuery, type FilterQuery } from './query.js';

/**
 * `/api/v1` operations of the audit log. The whole log is for system administrators
 * (`system` resource `audit-log`); a project's log for whom `rbac.authorize` lets list the
 * project's `log` (with the projects plugin: its Project Admins and Maintainers).
 */

const AuditPage = Type.Object(
  {
    items: Type.Array(AuditEntrySchema),
    next: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next (older) page; null on the last page.' }),
  },
  { $id: 'AuditLogPage', additionalProperties: false },
);

const PurgeSchema = Type.Object(
  {
    id: Type.Integer(),
    status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
    dryRun: Type.Boolean({ description: 'Counted only; nothing was deleted.' }),
    trigger: Type.Union([Type.Literal('schedule'), Type.Literal('api')]),
    requestedBy: Type.Union([Type.String(), Type.Null()]),
    requestedAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    deleted: Type.Integer({ description: 'Entries deleted (on a dry run: that would have been).' }),
    rules: Type.Union([Type.Record(Type.String(), Type.Object({ retention: Type.String(), count: Type.Integer() })), Type.Null()], {
      description: 'Per retention rule (`default`, `pull`, ...): its retention and the entries it removed.',
    }),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'AuditLogPurge', additionalProperties: false },
);

const ProjectParams = Type.Object({ project_name: Type.String({ minLength: 1, maxLength: 255 }) });
const PurgeParams = Type.Object({ purge_id: Type.Integer({ minimum: 1 }) });
const PurgeBody = Type.Object({ dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Only count what would go.' })) }, { additionalProperties: false });

const SYSTEM_LOG = { resource: { type: 'system', name: 'audit-log' } } as const;
const projectLog = (name: string) => ({ resource: { type: 'project', name, resource: 'log' } }) as const;

type Purge = Awaited<ReturnType<AuditService['history']['list']>>[number];
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const purgeView = (p: Purge) => ({ ...p, requestedAt: p.requestedAt.toISOString(), startedAt: iso(p.startedAt), finishedAt: iso(p.finishedAt) });

function notStored(service: AuditService): void {
  if (!service.config.store) {
    throw new ApiError('NOT_FOUND', 'this registry does not store its audit log (logging.audit.store is false): the entries are forwarded to the logs');
  }
}

export function registerAuditApi(api: ManagementApi, service: AuditService): void {
  const page = async (req: ApiRequest<unknown, FilterQuery & { limit?: number; cursor?: string }, unknown>, project?: string) => {
    notStored(service);
    const filter = filterOf(req.query, project);
    const result = await service.store.page(filter, req.query.limit ?? 20, decodeCursor(req.query.cursor));
    return { items: result.items.map(viewOf), next: result.next ? encodeCursor(result.next) : null };
  };
  const exported = (query: FilterQuery & { format?: 'csv' | 'json' }, project?: string) => {
    notStored(service);
    const filter = filterOf(query, project);
    const format = query.format ?? 'csv';
    return apiStream({
      contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      filename: exportName(project, format),
      chunks: format === 'csv' ? exportCsv(service.store, filter) : exportJson(service.store, filter),
    });
  };

  api.operation({
    operationId: 'getAuditLogs',
    method: 'GET',
    path: '/audit-logs',
    tag: 'audit',
    summary: 'Read the audit log',
    description: 'Newest first, a page at a time (keyset: follow `next` with `cursor`). System administrators only.',
    query: SystemListQuery,
    response: AuditPage,
    async handler(req) {
      await req.authorize({ ...SYSTEM_LOG, action: 'list' });
      return page(req);
    },
  });

  api.operation({
    operationId: 'exportAuditLogs',
    method: 'GET',
    path: '/audit-logs/export',
    tag: 'audit',
    summary: 'Export the audit log as CSV or JSON',
    description: 'Every entry the filters match, newest first, streamed. System administrators only.',
    query: SystemExportQuery,
    produces: ['text/csv', 'application/json'],
    async handler(req) {
      await req.authorize({ ...SYSTEM_LOG, action: 'list' });
      return exported(req.query);
    },
  });

  api.operation({
    operationId: 'getProjectAuditLogs',
    method: 'GET',
    path: '/projects/{project_name}/audit-logs',
    tag: 'audit',
    summary: "Read a project's audit log",
    description: "Entries of the project's artifacts, tags, repositories, members and robots, newest first. Project Admins and Maintainers (and system administrators).",
    params: ProjectParams,
    query: ProjectListQuery,
    response: AuditPage,
    async handler(req) {
      await req.authorize({ ...projectLog(req.params.project_name), action: 'list' });
      return page(req, req.params.project_name);
    },
  });

  api.operation({
    operationId: 'exportProjectAuditLogs',
    method: 'GET',
    path: '/projects/{project_name}/audit-logs/export',
    tag: 'audit',
    summary: "Export a project's audit log as CSV or JSON",
    params: ProjectParams,
    query: ProjectExportQuery,
    produces: ['text/csv', 'application/json'],
    async handler(req) {
      await req.authorize({ ...projectLog(req.params.project_name), action: 'list' });
      return exported(req.query, req.params.project_name);
    },
  });

  api.operation({
    operationId: 'startAuditLogPurge',
    method: 'POST',
    path: '/audit-logs/purges',
    tag: 'audit',
    summary: 'Purge the audit log now (or count what would go)',
    description: 'Applies `logging.audit.retention` at once, as the schedule does, through the jobs service. `dryRun` only counts. Answers 202 with the purge; follow it at its `Location`. System administrators only.',
    body: PurgeBody,
    response: PurgeSchema,
    status: 202,
    async handler(req) {
      await req.authorize({ ...SYSTEM_LOG, action: 'delete' });
      const purge = await service.requestPurge({ dryRun: req.body.dryRun ?? false, requestedBy: req.principal.subject });
      req.setHeader('Location', `/api/v1/audit-logs/purges/${purge.id}`);
      req.logger.info({ purge: purge.id, dryRun: purge.dryRun, by: req.principal.subject }, 'audit log purge requested');
      return purgeView(purge);
    },
  });

  api.operation({
    operationId: 'listAuditLogPurges',
    method: 'GET',
    path: '/audit-logs/purges',
    tag: 'audit',
    summary: 'The history of purges',
    description: `Newest first: when, by whom (null for the schedule), dry run or not, how many entries went. The last ${PURGE_HISTORY_KEEP} are kept. System administrators only.`,
    list: true,
    response: PurgeSchema,
    async handler(req) {
      await req.authorize({ ...SYSTEM_LOG, action: 'list' });
      const all = await service.history.list(PURGE_HISTORY_KEEP);
      const start = (req.page.page - 1) * req.page.pageSize;
      return { items: all.slice(start, start + req.page.pageSize).map(purgeView), total: all.length };
    },
  });

  api.operation({
    operationId: 'getAuditLogPurge',
    method: 'GET',
    path: '/audit-logs/purges/{purge_id}',
    tag: 'audit',
    summary: 'One purge',
    params: PurgeParams,
    response: PurgeSchema,
    async handler(req) {
      await req.authorize({ ...SYSTEM_LOG, action: 'read' });
      const purge = await service.history.get(req.params.purge_id);
      if (!purge) throw new ApiError('NOT_FOUND', `no audit log purge ${req.params.purge_id}`);
      return purgeView(purge);
    },
  });
}
