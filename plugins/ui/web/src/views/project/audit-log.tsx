import { api, errorMessage } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { useDebouncedInput } from '../../components/debounce.js';
import { ApiFailure, useLoad } from '../../components/load.js';
import { Empty, Loaded } from '../../components/states.js';
import { formatDate, formatNumber, t, type MessageKey } from '../../i18n/index.js';
import { intParam, navigate, useLocation, withQuery } from '../../router.js';

type Entry = components['schemas']['AuditEntry'];
const OPERATIONS = ['push', 'pull', 'delete', 'create', 'update', 'login', 'access'] as const;
const RESOURCE_TYPES = ['artifact', 'tag', 'repository', 'project', 'member', 'robot', 'replication-policy'] as const;
type Operation = (typeof OPERATIONS)[number];
const PAGE_SIZE = 25;

/** A `datetime-local` value (the user's time) as RFC 3339 for the API, or undefined. */
function rfc3339(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * A project's audit log, newest first: filters (operation, resource type, resource prefix,
 * actor, time range), the page size (`limit`) and the page cursor live in the URL, so a reload or a shared link shows
 * the same entries; the same filters export the whole answer as CSV or JSON.
 */
export function ProjectAuditLog({ project }: { project: string }) {
  const loc = useLocation();
  const get = (k: string) => loc.query.get(k) ?? '';
  const filters = { operation: get('operation'), resource_type: get('resource_type'), resource: get('resource'), actor: get('actor'), from: get('from'), to: get('to') };
  const cursor = get('cursor');
  const limit = Math.min(100, intParam(loc, 'limit', PAGE_SIZE));
  const query = {
    ...(OPERATIONS.includes(filters.operation as Operation) ? { operation: filters.operation as Operation } : {}),
    ...(filters.resource_type ? { resource_type: filters.resource_type } : {}),
    ...(filters.resource ? { resource: filters.resource } : {}),
    ...(filters.actor ? { actor: filters.actor } : {}),
    ...(rfc3339(filters.from) ? { from: rfc3339(filters.from) as string } : {}),
    ...(rfc3339(filters.to) ? { to: rfc3339(filters.to) as string } : {}),
  };
  const [load, reload] = useLoad(`${project}|${JSON.stringify(query)}|${cursor}|${limit}`, async () => {
    const { data, error, response } = await api.GET('/projects/{project_name}/audit-logs', {
      params: { path: { project_name: project }, query: { ...query, limit, ...(cursor ? { cursor } : {}) } },
    });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return data;
  });
  const setFilter = (changes: Record<string, string | undefined>) => navigate(withQuery(loc, { ...changes, cursor: undefined }), { replace: true });
  const [resource, setResource] = useDebouncedInput(filters.resource, (v) => setFilter({ resource: v }));
  const [actor, setActor] = useDebouncedInput(filters.actor, (v) => setFilter({ actor: v }));
  const exportHref = (format: 'csv' | 'json') => {
    const q = new URLSearchParams({ ...query, format });
    return `/api/v1/projects/${encodeURIComponent(project)}/audit-logs/export?${q}`;
  };
  const filtered = Object.values(filters).some(Boolean);

  return (
    <section aria-labelledby="audit-title">
      <div class="title-row">
        <h2 id="audit-title">{t('audit.title')}</h2>
        <p class="links">
          <a href={exportHref('csv')} download={`${project}-audit.csv`}>
            {t('audit.exportCsv')}
          </a>{' '}
          <a href={exportHref('json')} download={`${project}-audit.json`}>
            {t('audit.exportJson')}
          </a>
        </p>
      </div>
      <form class="filters" role="search" aria-label={t('audit.filters')} onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>{t('audit.operation')}</span>
          <select value={filters.operation} onChange={(e) => setFilter({ operation: e.currentTarget.value })}>
            <option value="">{t('audit.any')}</option>
            {OPERATIONS.map((op) => (
              <option value={op}>{t(`audit.op.${op}` as MessageKey)}</option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('audit.resourceType')}</span>
          <select value={filters.resource_type} onChange={(e) => setFilter({ resource_type: e.currentTarget.value })}>
            <option value="">{t('audit.any')}</option>
            {RESOURCE_TYPES.map((r) => (
              <option value={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          <span>{t('audit.resource')}</span>
          <input type="search" value={resource} placeholder={t('audit.resourcePlaceholder')} onInput={(e) => setResource(e.currentTarget.value)} />
        </label>
        <label>
          <span>{t('audit.actor')}</span>
          <input type="search" value={actor} onInput={(e) => setActor(e.currentTarget.value)} />
        </label>
        <label>
          <span>{t('audit.from')}</span>
          <input type="datetime-local" value={filters.from} onChange={(e) => setFilter({ from: e.currentTarget.value })} />
        </label>
        <label>
          <span>{t('audit.to')}</span>
          <input type="datetime-local" value={filters.to} onChange={(e) => setFilter({ to: e.currentTarget.value })} />
        </label>
      </form>
      <Loaded
        load={load}
        retry={reload}
        done={({ items, next }) =>
          items.length === 0 ? (
            <Empty>{filtered ? t('audit.emptyFiltered') : t('audit.empty')}</Empty>
          ) : (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('audit.col.time')}</th>
                    <th scope="col">{t('audit.col.actor')}</th>
                    <th scope="col">{t('audit.col.operation')}</th>
                    <th scope="col">{t('audit.col.resource')}</th>
                    <th scope="col">{t('audit.col.result')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((e: Entry) => (
                    <tr key={e.eventId}>
                      <td>{formatDate(e.time)}</td>
                      <td>
                        {e.actor ?? '—'}
                        {e.clientAddress && <small class="referrers">{e.clientAddress}</small>}
                      </td>
                      <td>
                        {OPERATIONS.includes(e.operation as Operation) ? t(`audit.op.${e.operation}` as MessageKey) : e.operation}
                        {e.count > 1 && <small class="referrers">{t('audit.times', { count: formatNumber(e.count) })}</small>}
                      </td>
                      <td>
                        <code>{e.resource}</code>
                        <small class="referrers">{e.resourceType}</small>
                      </td>
                      <td>
                        <span class={`badge result-${e.result}`}>{t(`audit.result.${e.result}` as MessageKey)}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <nav class="pager" aria-label={t('pager.label')}>
                {cursor ? <a href={withQuery(loc, { cursor: undefined })}>{t('audit.newest')}</a> : <span aria-disabled="true">{t('audit.newest')}</span>}
                {next ? <a href={withQuery(loc, { cursor: next })}>{t('audit.older')}</a> : <span aria-disabled="true">{t('audit.older')}</span>}
              </nav>
            </>
          )
        }
      />
    </section>
  );
}
