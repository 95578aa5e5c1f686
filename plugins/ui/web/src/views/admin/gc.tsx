import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { ApiFailure } from '../../components/load.js';
import { listQuery } from '../../components/list-query.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { Empty, Loaded } from '../../components/states.js';
import { formatDate, formatNumber, formatSize, t } from '../../i18n/index.js';
import { intParam, useLocation } from '../../router.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { Confirm } from '../../components/confirm.js';
import { Notice } from '../../components/notice.js';
import { AdminPage, StatusBadge, useLiveLoad, usePoll } from './common.js';

type Run = components['schemas']['GcRun'];
const PAGE_SIZE = 20;
/** Columns the server sorts the history by (listGc's `sort` fields; newest first by default). */
const SORTS = ['id', 'status', 'requestedAt', 'blobsDeleted', 'bytesFreed'];
const LIVE = new Set(['queued', 'running']);

/**
 * Garbage collection: run now (a dry run by default: what it would free), the schedule, and the
 * history with each run's counts and log; a running collection's progress refreshes every 2 s.
 */
export function AdminGcView() {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | undefined>();
  const [dryRun, setDryRun] = useState(true);
  const [untagged, setUntagged] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [stopping, setStopping] = useState<Run | undefined>();
  const sort = listSort(loc, SORTS, '-id');
  const [load, reload] = useLiveLoad(`${page}|${sort.param}`, async () => {
    const { data, error, response } = await api.GET('/system/gc', { params: { query: listQuery(page, PAGE_SIZE, sort) } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  const running = load.state === 'done' && load.value.items.some((r) => LIVE.has(r.status));
  usePoll(running, reload);

  const start = async (): Promise<string | undefined> => {
    const { data, error } = await api.POST('/system/gc', { body: { dryRun, ...(untagged ? { deleteUntagged: true } : {}) } });
    if (error || !data) return errorMessage(error);
    setConfirming(false);
    setNotice({ text: t(dryRun ? 'admin.gc.dryStarted' : 'admin.gc.started', { id: data.id }) });
    reload();
    return undefined;
  };

  return (
    <AdminPage id="gc" title={t('admin.gc.title')}>
      <Notice text={notice?.text} error={notice?.error} />
      <div class="panel">
        <form
          aria-label={t('admin.gc.run')}
          onSubmit={(e) => {
            e.preventDefault();
            if (dryRun) void start().then((err) => err && setNotice({ text: t('admin.failed', { message: err }), error: true }));
            else setConfirming(true);
          }}
        >
          <label class="check">
            <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.currentTarget.checked)} />
            {t('admin.gc.dryRunOption')}
          </label>
          <label class="check">
            <input type="checkbox" checked={untagged} onChange={(e) => setUntagged(e.currentTarget.checked)} />
            {t('admin.gc.untaggedOption')}
          </label>
          <button type="submit" class={dryRun ? 'primary' : 'danger'} disabled={running}>
            {t(dryRun ? 'admin.gc.runDry' : 'admin.gc.run')}
          </button>
          {running && <span class="hint">{t('admin.gc.oneAtATime')}</span>}
        </form>
      </div>
      <Schedule />
      <h2>{t('admin.gc.history')}</h2>
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={t('admin.gc.empty')}
        head={() => (
          <>
            <SortHeader column="id" label={t('admin.executions.col.id')} sort={sort} />
            <SortHeader column="status" label={t('admin.col.status')} sort={sort} />
            <th scope="col">{t('admin.col.kind')}</th>
            <th scope="col">{t('admin.col.requestedBy')}</th>
            <SortHeader column="requestedAt" label={t('admin.col.started')} sort={sort} />
            <SortHeader column="blobsDeleted" label={t('admin.gc.col.blobs')} sort={sort} />
            <SortHeader column="bytesFreed" label={t('admin.gc.col.freed')} sort={sort} />
            <ActionsHeader label={t('admin.col.actions')} />
          </>
        )}
        row={(r) => <GcRow key={r.id} run={r} onStop={() => setStopping(r)} />}
      />
      <Confirm
        open={confirming}
        title={t('admin.gc.confirmTitle')}
        body={t(untagged ? 'admin.gc.confirmBodyUntagged' : 'admin.gc.confirmBody')}
        confirmLabel={t('admin.gc.run')}
        onClose={() => setConfirming(false)}
        action={start}
      />
      <Confirm
        open={stopping !== undefined}
        title={t('admin.gc.stopTitle', { id: stopping?.id ?? '' })}
        body={t('admin.gc.stopBody', { id: stopping?.id ?? '' })}
        confirmLabel={t('admin.gc.stop')}
        onClose={() => setStopping(undefined)}
        action={async () => {
          const r = stopping;
          if (!r) return undefined;
          const { error } = await api.POST('/system/gc/{gc_id}/stop', { params: { path: { gc_id: r.id } } });
          if (error) return errorMessage(error);
          setStopping(undefined);
          setNotice({ text: t('admin.gc.stopped', { id: r.id }) });
          reload();
          return undefined;
        }}
      />
    </AdminPage>
  );
}

function GcRow({ run: r, onStop }: { run: Run; onStop: () => void }) {
  const [open, setOpen] = useState(false);
  const live = LIVE.has(r.status);
  return (
    <>
      <tr>
        <th scope="row">{t('admin.gc.named', { id: r.id })}</th>
        <td>
          <StatusBadge status={r.status} />
          {live && r.phase && <span class="hint"> {t('admin.gc.phase', { phase: r.phase })}</span>}
          {live && <div class="hint">{t('admin.gc.progress', { done: formatNumber(r.blobsDeleted), candidates: formatNumber(r.candidates) })}</div>}
          {r.error && <div class="state error">{r.error}</div>}
        </td>
        <td>
          {r.dryRun ? t('admin.dryRun') : t('admin.realRun')}
          {r.deleteUntagged && <span class="hint"> {t('admin.gc.withUntagged')}</span>}
        </td>
        <td>{r.requestedBy ?? t(r.trigger === 'schedule' ? 'admin.bySchedule' : 'admin.byApi')}</td>
        <td>{formatDate(r.startedAt ?? r.requestedAt)}</td>
        <td>
          {formatNumber(r.blobsDeleted)}
          {r.heldBack > 0 && <span class="hint"> {t('admin.gc.heldBack', { n: formatNumber(r.heldBack) })}</span>}
          {r.artifactsDeleted > 0 && <div class="hint">{t('admin.gc.artifacts', { n: formatNumber(r.artifactsDeleted) })}</div>}
        </td>
        <td>{r.dryRun ? t('admin.gc.wouldFree', { size: formatSize(r.bytesFreed) }) : formatSize(r.bytesFreed)}</td>
        <td class="actions">
          {live && (
            <button type="button" class="danger" aria-label={t('admin.gc.stopNamed', { id: r.id })} onClick={onStop}>
              {t('admin.gc.stop')}
            </button>
          )}
          <button type="button" aria-expanded={open} aria-controls={`gc-log-${r.id}`} aria-label={t(open ? 'admin.gc.hideLogOf' : 'admin.gc.showLogOf', { id: r.id })} onClick={() => setOpen(!open)}>
            {t(open ? 'admin.hideLog' : 'admin.showLog')}
          </button>
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={8} id={`gc-log-${r.id}`}>
            <GcLog id={r.id} live={live} />
          </td>
        </tr>
      )}
    </>
  );
}

function GcLog({ id, live }: { id: number; live: boolean }) {
  const [load, reload] = useLiveLoad(`${id}`, async () => {
    const { data, error, response } = await api.GET('/system/gc/{gc_id}/log', { params: { path: { gc_id: id } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return data;
  });
  usePoll(live, reload);
  return (
    <Loaded
      load={load}
      retry={reload}
      done={(lines) =>
        lines.length === 0 ? (
          <Empty>{t('admin.emptyLog')}</Empty>
        ) : (
          <pre class="log" tabIndex={0} aria-label={t('admin.gc.logOf', { id })}>
            {lines.map((l) => `${new Date(l.at).toISOString()}  ${l.message}`).join('\n')}
          </pre>
        )
      }
    />
  );
}

/** The schedule in force (from the config or set here), and setting or clearing it. */
function Schedule() {
  const [load, reload] = useLiveLoad('schedule', async () => {
    const { data, error, response } = await api.GET('/system/gc/schedule');
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return data;
  });
  const [cron, setCron] = useState('');
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | undefined>();
  useEffect(() => {
    if (load.state === 'done') setCron(load.value.cron ?? '');
  }, [load]);
  const save = async (value: string | null) => {
    const { error } = await api.PUT('/system/gc/schedule', { body: { cron: value } });
    setNotice(error ? { text: t('admin.failed', { message: errorMessage(error) }), error: true } : { text: value ? t('admin.gc.scheduleSet', { cron: value }) : t('admin.gc.scheduleCleared') });
    reload();
  };
  return (
    <section aria-labelledby="gc-schedule-title">
      <h2 id="gc-schedule-title">{t('admin.gc.schedule')}</h2>
      <Notice text={notice?.text} error={notice?.error} />
      <Loaded
        load={load}
        retry={reload}
        done={(s) => (
          <div class="panel">
            <p>
              {s.cron ? t('admin.gc.scheduleIs', { cron: s.cron }) : t('admin.gc.onDemand')}{' '}
              <span class="hint">
                {s.source === 'config' ? t('admin.gc.fromConfig') : t('admin.gc.fromApi', { who: s.updatedBy ?? '—', when: formatDate(s.updatedAt) })}
              </span>
            </p>
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void save(cron.trim());
              }}
            >
              <label>
                <span>{t('admin.cronUtc')}</span>
                <input required minLength={9} maxLength={100} aria-describedby="gc-cron-help" placeholder="0 3 * * 6" value={cron} onInput={(e) => setCron(e.currentTarget.value)} />
              </label>
              <button type="submit">{t('admin.gc.setSchedule')}</button>
              {s.cron && (
                <button type="button" onClick={() => void save(null)}>
                  {t('admin.gc.clearSchedule')}
                </button>
              )}
            </form>
            <small id="gc-cron-help">{t('admin.gc.cronHelp')}</small>
          </div>
        )}
      />
    </section>
  );
}
