import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components, paths } from '../../api/schema.js';
import { useDebouncedInput } from '../../components/debounce.js';
import { ApiFailure } from '../../components/load.js';
import { Empty, Loaded } from '../../components/states.js';
import { formatDate, formatNumber, t, type MessageKey } from '../../i18n/index.js';
import { intParam, navigate, useLocation, withQuery } from '../../router.js';
import { listSort, RowSortHeader, sortRows, type RowColumns } from '../../components/sort-header.js';
import { Confirm } from '../../components/confirm.js';
import { Notice } from '../../components/notice.js';
import { AdminPage, StatusBadge, useLiveLoad, usePoll } from './common.js';

type Entry = components['schemas']['AuditEntry'];
type Purge = components['schemas']['AuditLogPurge'];
type AuditQuery = NonNullable<paths['/audit-logs']['get']['parameters']['query']>;
const LIMIT = 50;
const PURGE_PAGE_SIZE = 10;
const OPERATIONS = ['push', 'pull', 'delete', 'create', 'update', 'login', 'access'] as const;
const RESULTS = ['success', 'failure', 'denied'] as const;
const RESOURCE_TYPES = ['artifact', 'tag', 'repository', 'project', 'member', 'user', 'user-group', 'robot', 'registry', 'replication-policy'] as const;
const TEXT_FILTERS = ['actor', 'resource', 'project'] as const;

const opLabel = (op: string) => ((OPERATIONS as readonly string[]).includes(op) ? t(`admin.audit.op.${op}` as MessageKey) : op);
const typeLabel = (type: string) => ((RESOURCE_TYPES as readonly string[]).includes(type) ? t(`admin.audit.type.${type.replace('-', '')}` as MessageKey) : type);
/** The columns a page of entries sorts by, on screen (the API pages newest first). */
const SORTS: RowColumns<Entry> = {
  time: (e) => e.time,
  actor: (e) => e.actor,
  operation: (e) => e.operation,
  resourceType: (e) => e.resourceType,
  resource: (e) => e.resource,
  project: (e) => e.project,
  result: (e) => e.result,
};
const resultLabel = (r: string) => t(`admin.audit.result.${r}` as MessageKey);

/** A `datetime-local` value (the user's time zone) as RFC 3339 for the API. */
function rfc3339(local: string): string | undefined {
  const d = new Date(local);
  return local && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined;
}

/** The API's filters from the URL's. */
function queryOf(q: URLSearchParams): AuditQuery {
  const out: Record<string, string> = {};
  for (const k of ['operation', 'resource_type', 'result', ...TEXT_FILTERS]) {
    const v = q.get(k);
    if (v) out[k] = v;
  }
  const from = rfc3339(q.get('from') ?? '');
  const to = rfc3339(q.get('to') ?? '');
  if (from) out['from'] = from;
  if (to) out['to'] = to;
  return out as AuditQuery;
}

/**
 * The system-wide audit log: filters in the URL, pages by cursor (older entries), the same
 * filters exported as CSV or JSON; below, the purge history and a purge (or its dry run).
 */
export function AdminAuditView() {
  const loc = useLocation();
  const cursor = loc.query.get('cursor') ?? '';
  const filters = queryOf(loc.query);
  const key = JSON.stringify(filters);
  const [load, reload] = useLiveLoad(`${key}|${cursor}`, async () => {
    const { data, error, response } = await api.GET('/audit-logs', { params: { query: { ...filters, limit: LIMIT, ...(cursor ? { cursor } : {}) } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return data;
  });
  const setFilter = (changes: Record<string, string | undefined>) => navigate(withQuery(loc, { ...changes, cursor: undefined }), { replace: true });
  const exportHref = (format: 'csv' | 'json') => `/api/v1/audit-logs/export?${new URLSearchParams({ ...(filters as Record<string, string>), format }).toString()}`;
  const sort = listSort(loc, Object.keys(SORTS), '-time');
  return (
    <AdminPage id="audit" title={t('admin.audit.title')}>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>{t('admin.audit.col.operation')}</span>
          <select value={loc.query.get('operation') ?? ''} onChange={(e) => setFilter({ operation: e.currentTarget.value })}>
            <option value="">{t('admin.all')}</option>
            {OPERATIONS.map((o) => (
              <option value={o}>{opLabel(o)}</option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('admin.audit.col.resourceType')}</span>
          <select value={loc.query.get('resource_type') ?? ''} onChange={(e) => setFilter({ resource_type: e.currentTarget.value })}>
            <option value="">{t('admin.all')}</option>
            {RESOURCE_TYPES.map((o) => (
              <option value={o}>{typeLabel(o)}</option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('admin.audit.col.result')}</span>
          <select value={loc.query.get('result') ?? ''} onChange={(e) => setFilter({ result: e.currentTarget.value })}>
            <option value="">{t('admin.all')}</option>
            {RESULTS.map((o) => (
              <option value={o}>{resultLabel(o)}</option>
            ))}
          </select>
        </label>
        {TEXT_FILTERS.map((k) => (
          <TextFilter key={k} name={k} value={loc.query.get(k) ?? ''} onCommit={(v) => setFilter({ [k]: v })} />
        ))}
        <label>
          <span>{t('admin.audit.from')}</span>
          <input type="datetime-local" value={loc.query.get('from') ?? ''} onChange={(e) => setFilter({ from: e.currentTarget.value })} />
        </label>
        <label>
          <span>{t('admin.audit.to')}</span>
          <input type="datetime-local" value={loc.query.get('to') ?? ''} onChange={(e) => setFilter({ to: e.currentTarget.value })} />
        </label>
      </form>
      <p class="export">
        <a href={exportHref('csv')} download="audit-log.csv">
          {t('admin.audit.exportCsv')}
        </a>
        <a href={exportHref('json')} download="audit-log.json">
          {t('admin.audit.exportJson')}
        </a>
        <button type="button" onClick={reload}>
          {t('admin.refresh')}
        </button>
      </p>
      <Loaded
        load={load}
        retry={reload}
        done={({ items, next }) =>
          items.length === 0 ? (
            <Empty>{cursor ? t('admin.audit.noOlder') : t('admin.audit.empty')}</Empty>
          ) : (
            <>
              <table>
                <thead>
                  <tr>
                    <RowSortHeader column="time" label={t('admin.audit.col.time')} sort={sort} />
                    <RowSortHeader column="actor" label={t('admin.audit.col.actor')} sort={sort} />
                    <RowSortHeader column="operation" label={t('admin.audit.col.operation')} sort={sort} />
                    <RowSortHeader column="resourceType" label={t('admin.audit.col.resourceType')} sort={sort} />
                    <RowSortHeader column="resource" label={t('admin.audit.col.resource')} sort={sort} />
                    <RowSortHeader column="project" label={t('admin.audit.col.project')} sort={sort} />
                    <RowSortHeader column="result" label={t('admin.audit.col.result')} sort={sort} />
                    <th scope="col">{t('admin.audit.col.client')}</th>
                  </tr>
                </thead>
                <tbody>
                  {sortRows(items, sort, SORTS).map((e) => (
                    <AuditRow key={e.eventId} entry={e} />
                  ))}
                </tbody>
              </table>
              <nav class="pager" aria-label={t('pager.label')}>
                {cursor ? <a href={withQuery(loc, { cursor: undefined })}>{t('admin.audit.newest')}</a> : <span aria-disabled="true">{t('admin.audit.newest')}</span>}
                {next ? <a href={withQuery(loc, { cursor: next })}>{t('admin.audit.older')}</a> : <span aria-disabled="true">{t('admin.audit.older')}</span>}
              </nav>
            </>
          )
        }
      />
      <Purges />
    </AdminPage>
  );
}

function TextFilter({ name, value, onCommit }: { name: (typeof TEXT_FILTERS)[number]; value: string; onCommit: (v: string) => void }) {
  const [text, setText] = useDebouncedInput(value, onCommit, 400);
  return (
    <label>
      <span>{t(`admin.audit.col.${name}` as MessageKey)}</span>
      <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
    </label>
  );
}

function AuditRow({ entry: e }: { entry: Entry }) {
  return (
    <tr>
      <td>{formatDate(e.time)}</td>
      <td>
        {e.actor ?? '—'}
        {e.actorKind && e.actorKind !== 'user' && <span class="hint"> ({e.actorKind})</span>}
      </td>
      <td>
        {opLabel(e.operation)}
        {e.count > 1 && <span class="hint"> ×{formatNumber(e.count)}</span>}
      </td>
      <td>{typeLabel(e.resourceType)}</td>
      <td>
        <code>{e.resource}</code>
      </td>
      <td>{e.project ?? '—'}</td>
      <td>
        <span class={`badge ${e.result === 'success' ? 'yes' : 'stuck'}`}>{resultLabel(e.result)}</span>
      </td>
      <td>{e.clientAddress ?? '—'}</td>
    </tr>
  );
}

/** The purge history (`?purges=<page>`), and a purge now or its dry run. */
function Purges() {
  const loc = useLocation();
  const page = intParam(loc, 'purges');
  const [dryRun, setDryRun] = useState(true);
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | undefined>();
  const [load, reload] = useLiveLoad(`${page}`, async () => {
    const { data, error, response } = await api.GET('/audit-logs/purges', { params: { query: { page, page_size: PURGE_PAGE_SIZE } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  usePoll(load.state === 'done' && load.value.items.some((p) => p.status === 'queued' || p.status === 'running'), reload);
  const start = async (): Promise<string | undefined> => {
    const { data, error } = await api.POST('/audit-logs/purges', { body: { dryRun } });
    if (error || !data) return errorMessage(error);
    setConfirming(false);
    setNotice({ text: t(dryRun ? 'admin.audit.purgeDryStarted' : 'admin.audit.purgeStarted', { id: data.id }) });
    reload();
    return undefined;
  };
  return (
    <section aria-labelledby="purges-title">
      <h2 id="purges-title">{t('admin.audit.purges')}</h2>
      <Notice text={notice?.text} error={notice?.error} />
      <div class="panel">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (dryRun) void start().then((err) => err && setNotice({ text: t('admin.failed', { message: err }), error: true }));
            else setConfirming(true);
          }}
        >
          <label class="check">
            <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} />
            {t('admin.dryRunCount')}
          </label>
          <button type="submit" class={dryRun ? 'primary' : 'danger'}>
            {t(dryRun ? 'admin.audit.purgeDry' : 'admin.audit.purge')}
          </button>
        </form>
      </div>
      <Loaded
        load={load}
        retry={reload}
        done={({ items, total }) =>
          items.length === 0 ? (
            <Empty>{t('admin.audit.noPurges')}</Empty>
          ) : (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('admin.executions.col.id')}</th>
                    <th scope="col">{t('admin.col.status')}</th>
                    <th scope="col">{t('admin.col.kind')}</th>
                    <th scope="col">{t('admin.col.requestedBy')}</th>
                    <th scope="col">{t('admin.col.started')}</th>
                    <th scope="col">{t('admin.audit.deleted')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((p: Purge) => (
                    <tr key={p.id}>
                      <th scope="row">{p.id}</th>
                      <td>
                        <StatusBadge status={p.status} />
                        {p.error && <div class="state error">{p.error}</div>}
                      </td>
                      <td>{p.dryRun ? t('admin.dryRun') : t('admin.realRun')}</td>
                      <td>{p.requestedBy ?? t(p.trigger === 'schedule' ? 'admin.bySchedule' : 'admin.byApi')}</td>
                      <td>{formatDate(p.startedAt ?? p.requestedAt)}</td>
                      <td>{t(p.dryRun ? 'admin.audit.wouldDelete' : 'admin.audit.didDelete', { n: formatNumber(p.deleted) })}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <PurgePager page={page} total={total} />
            </>
          )
        }
      />
      <Confirm
        open={confirming}
        title={t('admin.audit.purgeTitle')}
        body={t('admin.audit.purgeBody')}
        confirmLabel={t('admin.audit.purge')}
        onClose={() => setConfirming(false)}
        action={start}
      />
    </section>
  );
}

/** Pages of the purge history in `?purges=` (the entries above keep their own cursor). */
function PurgePager({ page, total }: { page: number; total: number }) {
  const loc = useLocation();
  const pages = Math.max(1, Math.ceil(total / PURGE_PAGE_SIZE));
  if (pages === 1 && page === 1) return null;
  return (
    <nav class="pager" aria-label={t('admin.audit.purgePages')}>
      {page > 1 ? <a href={withQuery(loc, { purges: page - 1 === 1 ? undefined : page - 1 })}>{t('pager.previous')}</a> : <span aria-disabled="true">{t('pager.previous')}</span>}
      <span>{t('pager.status', { page: formatNumber(page), pages: formatNumber(pages), total: formatNumber(total) })}</span>
      {page < pages ? <a href={withQuery(loc, { purges: page + 1 })}>{t('pager.next')}</a> : <span aria-disabled="true">{t('pager.next')}</span>}
    </nav>
  );
}
