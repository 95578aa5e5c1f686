import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { ApiFailure } from '../../components/load.js';
import { NameSearch } from '../../components/name-search.js';
import { Pager } from '../../components/pager.js';
import { Empty, Loaded } from '../../components/states.js';
import { formatNumber, t } from '../../i18n/index.js';
import { intParam, navigate, useLocation, withQuery } from '../../router.js';
import { listSort, RowSortHeader, sortRows, type RowColumns } from '../../components/sort-header.js';
import { Confirm } from '../../components/confirm.js';
import { Notice } from '../../components/notice.js';
import { AdminPage, formatDuration, useLiveLoad } from './common.js';

type Consumer = components['schemas']['EventConsumer'];
// The API's largest page: a deployment has a consumer or two per plugin, so the screen holds the list
// whole and its name filter, stuck filter and sort apply to every consumer, not to one page.
const PAGE_SIZE = 100;
/** Behind by more than this, a consumer counts as stuck. */
const STUCK_MS = 5 * 60_000;
const stuck = (c: Consumer) => c.dead > 0 || c.lagMs > STUCK_MS;
/** The columns the consumers sort by, on screen. */
const SORTS: RowColumns<Consumer> = { name: (c) => c.name, pending: (c) => c.pending + c.running, delivered: (c) => c.delivered, dead: (c) => c.dead, lag: (c) => c.lagMs };

/**
 * Facts about this registry, and the durable event consumers (webhooks, replication, audit...)
 * with their backlog: an operator sees at once which one is stuck and retries its dead events.
 */
export function AdminSystemView() {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const onlyStuck = loc.query.get('stuck') === '1';
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | undefined>();
  const [retrying, setRetrying] = useState<Consumer | undefined>();
  const [info, reloadInfo] = useLiveLoad('info', async () => {
    const { data, error, response } = await api.GET('/systeminfo');
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return data;
  });
  const [load, reload] = useLiveLoad(`${page}`, async () => {
    const { data, error, response } = await api.GET('/events/consumers', { params: { query: { page, page_size: PAGE_SIZE } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  const sort = listSort(loc, Object.keys(SORTS), 'name');
  return (
    <AdminPage id="system" title={t('admin.system.title')}>
      <Notice text={notice?.text} error={notice?.error} />
      <Loaded
        load={info}
        retry={reloadInfo}
        done={(s) => (
          <dl class="facts">
            <dt>{t('admin.system.version')}</dt>
            <dd>{s.version}</dd>
            <dt>{t('admin.system.registryUrl')}</dt>
            <dd>
              <code>{s.registryUrl}</code>
            </dd>
            <dt>{t('admin.system.tokenAuth')}</dt>
            <dd>{s.tokenAuth.enabled ? t('admin.system.tokenOn', { realm: s.tokenAuth.realm ?? '—', service: s.tokenAuth.service ?? '—' }) : t('admin.system.tokenOff')}</dd>
          </dl>
        )}
      />
      <h2>{t('admin.system.consumers')}</h2>
      <NameSearch label={t('admin.system.searchConsumers')} placeholder={t('admin.nameContains')}>
        <label class="check">
          <input type="checkbox" checked={onlyStuck} onChange={(e) => navigate(withQuery(loc, { stuck: e.currentTarget.checked ? '1' : undefined }), { replace: true })} />
          {t('admin.system.onlyStuck')}
        </label>
        <button type="button" onClick={reload}>
          {t('admin.refresh')}
        </button>
      </NameSearch>
      <Loaded
        load={load}
        retry={reload}
        done={({ items, total }) => {
          // The API lists every consumer (a handful per plugin); the name and stuck filters apply here.
          const shown = items.filter((c) => c.name.toLowerCase().includes(name.toLowerCase()) && (!onlyStuck || stuck(c)));
          return shown.length === 0 ? (
            <Empty>{items.length === 0 ? t('admin.system.noConsumers') : t('admin.system.noMatch')}</Empty>
          ) : (
            <>
              <table>
                <thead>
                  <tr>
                    <RowSortHeader column="name" label={t('admin.col.name')} sort={sort} />
                    <th scope="col">{t('admin.system.col.types')}</th>
                    <RowSortHeader column="pending" label={t('admin.system.col.pending')} sort={sort} />
                    <RowSortHeader column="delivered" label={t('admin.system.col.delivered')} sort={sort} />
                    <RowSortHeader column="dead" label={t('admin.system.col.dead')} sort={sort} />
                    <RowSortHeader column="lag" label={t('admin.system.col.lag')} sort={sort} />
                    <th scope="col">{t('admin.system.col.lastError')}</th>
                    <th scope="col">
                      <span class="visually-hidden">{t('admin.col.actions')}</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {sortRows(shown, sort, SORTS).map((c) => (
                    <tr key={c.name}>
                      <th scope="row">
                        {c.name}
                        {stuck(c) && <span class="badge stuck"> {t('admin.system.stuck')}</span>}
                      </th>
                      <td class="types">{c.types.join(', ')}</td>
                      <td class="num">{t('admin.system.pendingRunning', { pending: formatNumber(c.pending), running: formatNumber(c.running) })}</td>
                      <td class="num">{formatNumber(c.delivered)}</td>
                      <td class="num">{c.dead > 0 ? <strong class="badge stuck">{formatNumber(c.dead)}</strong> : '0'}</td>
                      <td class="num">{c.lagMs > 0 ? formatDuration(c.lagMs) : t('admin.system.caughtUp')}</td>
                      <td>{c.lastError ? <code>{c.lastError}</code> : '—'}</td>
                      <td class="actions">
                        {c.dead > 0 && (
                          <button type="button" aria-label={t('admin.system.retryNamed', { name: c.name })} onClick={() => setRetrying(c)}>
                            {t('admin.system.retry')}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager page={page} pageSize={PAGE_SIZE} total={total} />
            </>
          );
        }}
      />
      <Confirm
        open={retrying !== undefined}
        danger={false}
        title={t('admin.system.retryTitle', { name: retrying?.name ?? '' })}
        body={t('admin.system.retryBody', { name: retrying?.name ?? '', n: formatNumber(retrying?.dead ?? 0) })}
        confirmLabel={t('admin.system.retry')}
        onClose={() => setRetrying(undefined)}
        action={async () => {
          const c = retrying;
          if (!c) return undefined;
          const { data, error } = await api.POST('/events/consumers/{name}/retry', { params: { path: { name: c.name } }, body: {} });
          if (error || !data) return errorMessage(error);
          setRetrying(undefined);
          setNotice({ text: t('admin.system.retried', { name: c.name, n: formatNumber(data.retried) }) });
          reload();
          return undefined;
        }}
      />
    </AdminPage>
  );
}
