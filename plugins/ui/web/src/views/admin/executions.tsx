import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { ApiFailure } from '../../components/load.js';
import { Pager } from '../../components/pager.js';
import { Empty, ErrorState, Loaded, Loading } from '../../components/states.js';
import { formatDate, formatNumber, formatSize, t, type MessageKey } from '../../i18n/index.js';
import { intParam, navigate, useLocation, withQuery } from '../../router.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { Notice } from '../../components/notice.js';
import { listQuery } from '../../components/list-query.js';
import { PagedTable } from '../../components/paged-table.js';
import { AdminPage, StatusBadge, statusLabel, usePoll, useLiveLoad } from './common.js';

type Execution = components['schemas']['ReplicationExecution'];
type Task = components['schemas']['ReplicationTask'];
const PAGE_SIZE = 20;
/** Columns the server sorts executions by (listReplicationExecutions' `sort` fields; newest first by default). */
const SORTS = ['id', 'status', 'trigger', 'startedAt'];
/** Columns the server sorts an execution's tasks by (listReplicationTasks' `sort` fields). */
const TASK_SORTS = ['id', 'source', 'destination', 'status', 'bytes', 'attempts'];
const LIVE = new Set(['pending', 'running', 'stopping']);
const TASK_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'stopped', 'skipped'];

/** Executions of every policy or of one (`?policy=<id>`), newest first; live while one runs. */
export function AdminExecutionsView() {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const policy = intParam(loc, 'policy', 0);
  // Policy names once (for the filter and the rows); the executions again on each poll.
  const [policies] = useLiveLoad('policies', async () => {
    const { data } = await api.GET('/replication/policies', { params: { query: { page_size: 100 } } });
    return new Map((data ?? []).map((p) => [p.id, p.name]));
  });
  const names = policies.state === 'done' ? policies.value : new Map<number, string>();
  const sort = listSort(loc, SORTS, '-id');
  const [load, reload] = useLiveLoad(`${page}|${policy}|${sort.param}`, async () => {
    const list = await api.GET('/replication/executions', { params: { query: { ...listQuery(page, PAGE_SIZE, sort), ...(policy ? { policy_id: policy } : {}) } } });
    if (list.error || !list.data) throw new ApiFailure(errorMessage(list.error), list.response.status);
    return { items: list.data, total: totalOf(list.response) };
  });
  usePoll(load.state === 'done' && load.value.items.some((e) => LIVE.has(e.status)), reload);
  const policyName = policy ? names.get(policy) : undefined;
  return (
    <AdminPage id="executions" title={policyName ? t('admin.executions.titleOf', { name: policyName }) : t('admin.executions.title')}>
      <nav aria-label={t('project.breadcrumb')} class="crumbs">
        <a href="/admin/replication">{t('admin.replication.title')}</a> / <span aria-current="page">{t('admin.executions.title')}</span>
      </nav>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>{t('admin.executions.policy')}</span>
          <select value={String(policy || '')} onChange={(e) => navigate(withQuery(loc, { policy: e.currentTarget.value, page: undefined }), { replace: true })}>
            <option value="">{t('admin.all')}</option>
            {[...names].map(([id, n]) => (
              <option value={String(id)}>{n}</option>
            ))}
          </select>
        </label>
      </form>
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={t('admin.executions.empty')}
        head={() => (
          <>
            <SortHeader column="id" label={t('admin.executions.col.id')} sort={sort} />
            <th scope="col">{t('admin.executions.policy')}</th>
            <SortHeader column="status" label={t('admin.col.status')} sort={sort} />
            <SortHeader column="trigger" label={t('admin.replication.col.trigger')} sort={sort} />
            <th scope="col">{t('admin.executions.col.tasks')}</th>
            <th scope="col">{t('admin.executions.col.bytes')}</th>
            <SortHeader column="startedAt" label={t('admin.col.started')} sort={sort} />
            <th scope="col">{t('admin.col.finished')}</th>
          </>
        )}
        row={(e) => (
          <tr key={e.id}>
            <th scope="row">
              <a href={`/admin/replication/executions/${e.id}`}>{t('admin.executions.named', { id: e.id })}</a>
            </th>
            <td>{names.get(e.policyId) ?? `#${e.policyId}`}</td>
            <td>
              <StatusBadge status={e.status} />
            </td>
            <td>{triggerLabel(e.trigger)}</td>
            <td>{t('admin.executions.taskCounts', { done: formatNumber(e.tasks.succeeded), total: formatNumber(e.tasks.total), failed: formatNumber(e.tasks.failed) })}</td>
            <td>{formatSize(e.bytes)}</td>
            <td>{formatDate(e.startedAt)}</td>
            <td>{e.finishedAt ? formatDate(e.finishedAt) : '—'}</td>
          </tr>
        )}
      />
    </AdminPage>
  );
}

const triggerLabel = (trigger: string) => (['manual', 'scheduled', 'event'].includes(trigger) ? t(`admin.replication.trigger.${trigger}` as MessageKey) : trigger);

/**
 * One execution: its status and counts, stop and resume, and its tasks with their logs. While
 * the execution or any task is pending or running, the page asks again every 2 s.
 */
export function AdminExecutionView({ id }: { id: number }) {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const status = loc.query.get('status') ?? '';
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | undefined>();
  const [round, setRound] = useState(0);
  const sort = listSort(loc, TASK_SORTS, 'id');
  const [load, reload] = useLiveLoad(`${id}|${page}|${status}|${sort.param}`, async () => {
    const [execution, tasks] = await Promise.all([
      api.GET('/replication/executions/{id}', { params: { path: { id } } }),
      api.GET('/replication/executions/{id}/tasks', { params: { path: { id }, query: { page, page_size: PAGE_SIZE, ...(status ? { q: `status=${status}` } : {}), ...(sort.param ? { sort: sort.param } : {}) } } }),
    ]);
    if (execution.error || !execution.data) throw new ApiFailure(errorMessage(execution.error), execution.response.status);
    if (tasks.error || !tasks.data) throw new ApiFailure(errorMessage(tasks.error), tasks.response.status);
    return { execution: execution.data, tasks: tasks.data, total: totalOf(tasks.response) };
  });
  // The policy's name once, not on every poll.
  const policyId = load.state === 'done' ? load.value.execution.policyId : 0;
  const [policy] = useLiveLoad(`${policyId}`, async () => {
    if (!policyId) return undefined;
    const { data } = await api.GET('/replication/policies/{id}', { params: { path: { id: policyId } } });
    return data?.name;
  });
  const live = load.state === 'done' && (LIVE.has(load.value.execution.status) || load.value.tasks.some((k) => k.status === 'pending' || k.status === 'running'));
  usePoll(live, () => {
    reload();
    setRound((r) => r + 1);
  });

  const act = async (what: 'stop' | 'resume') => {
    const { error } =
      what === 'stop'
        ? await api.POST('/replication/executions/{id}/stop', { params: { path: { id } } })
        : await api.POST('/replication/executions/{id}/resume', { params: { path: { id } } });
    setNotice(error ? { text: t('admin.failed', { message: errorMessage(error) }), error: true } : { text: t(what === 'stop' ? 'admin.executions.stopped' : 'admin.executions.resumed', { id }) });
    reload();
  };

  return (
    <AdminPage id="execution" title={t('admin.executions.named', { id })}>
      <nav aria-label={t('project.breadcrumb')} class="crumbs">
        <a href="/admin/replication">{t('admin.replication.title')}</a> / <a href="/admin/replication/executions">{t('admin.executions.title')}</a> /{' '}
        <span aria-current="page">{t('admin.executions.named', { id })}</span>
      </nav>
      <Notice text={notice?.text} error={notice?.error} />
      {load.state === 'loading' ? (
        <Loading />
      ) : load.state === 'error' ? (
        <ErrorState message={load.message} status={load.status} retry={reload} />
      ) : (
        <ExecutionDetails
          execution={load.value.execution}
          policy={policy.state === 'done' ? policy.value : undefined}
          tasks={load.value.tasks}
          total={load.value.total}
          page={page}
          status={status}
          round={round}
          live={live}
          onAct={(w) => void act(w)}
        />
      )}
    </AdminPage>
  );
}

function ExecutionDetails({
  execution: e,
  policy,
  tasks,
  total,
  page,
  status,
  round,
  live,
  onAct,
}: {
  execution: Execution;
  policy: string | undefined;
  tasks: Task[];
  total: number;
  page: number;
  status: string;
  round: number;
  live: boolean;
  onAct: (what: 'stop' | 'resume') => void;
}) {
  const loc = useLocation();
  const sort = listSort(loc, TASK_SORTS, 'id');
  return (
    <>
      <dl class="facts">
        <dt>{t('admin.col.status')}</dt>
        <dd>
          <span role="status" aria-live="polite">
            <StatusBadge status={e.status} />
          </span>
          {e.statusText && <span> {e.statusText}</span>}
          {live && <span class="hint"> {t('admin.live')}</span>}
        </dd>
        <dt>{t('admin.executions.policy')}</dt>
        <dd>{policy ? <a href={`/admin/replication/executions?policy=${e.policyId}`}>{policy}</a> : `#${e.policyId}`}</dd>
        <dt>{t('admin.replication.col.trigger')}</dt>
        <dd>{triggerLabel(e.trigger)}</dd>
        <dt>{t('admin.executions.col.tasks')}</dt>
        <dd>
          {t('admin.executions.taskSummary', {
            total: formatNumber(e.tasks.total),
            succeeded: formatNumber(e.tasks.succeeded),
            failed: formatNumber(e.tasks.failed),
            running: formatNumber(e.tasks.running + e.tasks.pending),
            skipped: formatNumber(e.tasks.skipped + e.tasks.stopped),
          })}
        </dd>
        <dt>{t('admin.executions.col.bytes')}</dt>
        <dd>{formatSize(e.bytes)}</dd>
        <dt>{t('admin.col.started')}</dt>
        <dd>{formatDate(e.startedAt)}</dd>
        <dt>{t('admin.col.finished')}</dt>
        <dd>{e.finishedAt ? formatDate(e.finishedAt) : '—'}</dd>
      </dl>
      <div class="row-actions">
        {LIVE.has(e.status) && e.status !== 'stopping' && (
          <button type="button" class="danger" onClick={() => onAct('stop')}>
            {t('admin.executions.stop')}
          </button>
        )}
        {(e.status === 'stopped' || e.status === 'failed') && (
          <button type="button" class="primary" onClick={() => onAct('resume')}>
            {t('admin.executions.resume')}
          </button>
        )}
      </div>
      <h2>{t('admin.executions.tasks')}</h2>
      <form class="filters" onSubmit={(ev) => ev.preventDefault()}>
        <label>
          <span>{t('admin.col.status')}</span>
          <select value={status} onChange={(ev) => navigate(withQuery(loc, { status: ev.currentTarget.value, page: undefined }), { replace: true })}>
            <option value="">{t('admin.all')}</option>
            {TASK_STATUSES.map((s) => (
              <option value={s}>{statusLabel(s)}</option>
            ))}
          </select>
        </label>
      </form>
      {tasks.length === 0 ? (
        <Empty>{status ? t('admin.executions.noTasksWith', { status: statusLabel(status) }) : t('admin.executions.noTasks')}</Empty>
      ) : (
        <>
          <table>
            <thead>
              <tr>
                <SortHeader column="source" label={t('admin.executions.col.source')} sort={sort} />
                <SortHeader column="destination" label={t('admin.executions.col.destination')} sort={sort} />
                <SortHeader column="status" label={t('admin.col.status')} sort={sort} />
                <SortHeader column="bytes" label={t('admin.executions.col.bytes')} sort={sort} />
                <SortHeader column="attempts" label={t('admin.executions.col.attempts')} sort={sort} />
                <th scope="col">{t('admin.col.finished')}</th>
                <th scope="col">
                  <span class="visually-hidden">{t('admin.col.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tasks.map((k) => (
                <TaskRow key={k.id} task={k} round={round} />
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} total={total} />
        </>
      )}
    </>
  );
}

function TaskRow({ task: k, round }: { task: Task; round: number }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr>
        <th scope="row">
          <code>{k.source}</code>
          {k.operation !== 'copy' && <span class="hint"> ({k.operation})</span>}
        </th>
        <td>
          <code>{k.destination}</code>
        </td>
        <td>
          <StatusBadge status={k.status} />
          {k.error && <div class="state error">{k.error}</div>}
        </td>
        <td>{formatSize(k.bytes)}</td>
        <td>{formatNumber(k.attempts)}</td>
        <td>{k.finishedAt ? formatDate(k.finishedAt) : '—'}</td>
        <td class="actions">
          <button type="button" aria-expanded={open} aria-controls={`task-log-${k.id}`} aria-label={t(open ? 'admin.executions.hideLogOf' : 'admin.executions.showLogOf', { name: k.source })} onClick={() => setOpen(!open)}>
            {t(open ? 'admin.hideLog' : 'admin.showLog')}
          </button>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={7} id={`task-log-${k.id}`}>
            <TaskLog execution={k.executionId} task={k.id} round={round} name={k.source} />
          </td>
        </tr>
      )}
    </>
  );
}

function TaskLog({ execution, task, round, name }: { execution: number; task: number; round: number; name: string }) {
  const [load, reload] = useLiveLoad(`${execution}|${task}`, async () => {
    const { data, error, response } = await api.GET('/replication/executions/{id}/tasks/{task_id}/log', { params: { path: { id: execution, task_id: task } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return data.lines;
  });
  // The log grows while the task runs: read it again on each poll of the page.
  useEffect(() => {
    if (round > 0) reload();
  }, [round]);
  return (
    <Loaded
      load={load}
      retry={reload}
      done={(lines) =>
        lines.length === 0 ? (
          <Empty>{t('admin.emptyLog')}</Empty>
        ) : (
          <pre class="log" tabIndex={0} aria-label={t('admin.executions.logOf', { name })}>
            {lines.map((l) => `${new Date(l.at).toISOString()}  ${l.message}`).join('\n')}
          </pre>
        )
      }
    />
  );
}
