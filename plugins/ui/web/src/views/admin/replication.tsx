import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components, paths } from '../../api/schema.js';
import { ApiFailure } from '../../components/load.js';
import { listQuery } from '../../components/list-query.js';
import { NameSearch } from '../../components/name-search.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { t, type MessageKey } from '../../i18n/index.js';
import { intParam, navigate, useLocation } from '../../router.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { Confirm } from '../../components/confirm.js';
import { FormDialog } from '../../components/form-dialog.js';
import { Notice } from '../../components/notice.js';
import { AdminPage, useLiveLoad } from './common.js';

type Policy = components['schemas']['ReplicationPolicy'];
type PolicyBody = paths['/replication/policies']['post']['requestBody']['content']['application/json'];
type Filter = Policy['filters']['repositories'][number];
type Flatten = NonNullable<Policy['flatten']>;
const PAGE_SIZE = 20;
/** Columns the server sorts policies by (listReplicationPolicies' `sort` fields). */
const SORTS = ['name', 'mode', 'trigger', 'enabled'];
const SORT = 'name';

/**
 * Filters as text, one per line: a glob to include; `!` first excludes; `regex:` first makes it
 * a regular expression (`!regex:^tmp-`). Short to type, and every filter the API has survives an
 * edit.
 */
export function filtersToText(filters: readonly Filter[]): string {
  return filters.map((f) => `${f.decision === 'exclude' ? '!' : ''}${f.kind === 'regex' ? 'regex:' : ''}${f.pattern}`).join('\n');
}
export function textToFilters(text: string): Filter[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const exclude = l.startsWith('!');
      const rest = exclude ? l.slice(1) : l;
      const regex = rest.startsWith('regex:');
      return { kind: regex ? 'regex' : 'glob', pattern: regex ? rest.slice(6) : rest, decision: exclude ? 'exclude' : 'include' };
    });
}

/** Replication policies: list, create, edit, enable or disable, run now, delete. */
export function AdminReplicationView() {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | undefined>();
  const [editing, setEditing] = useState<Policy | 'new' | undefined>();
  const [deleting, setDeleting] = useState<Policy | undefined>();
  const sort = listSort(loc, SORTS, SORT);
  const [load, reload] = useLiveLoad(`${page}|${name}|${sort.param}`, async () => {
    const { data, error, response } = await api.GET('/replication/policies', { params: { query: listQuery(page, PAGE_SIZE, sort, { field: 'name', text: name }) } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });

  const start = async (p: Policy) => {
    const { data, error } = await api.POST('/replication/executions', { body: { policy: p.id } });
    if (error || !data) return setNotice({ text: t('admin.failed', { message: errorMessage(error) }), error: true });
    navigate(`/admin/replication/executions/${data.id}`);
  };
  const toggle = async (p: Policy) => {
    const { error } = await api.PUT('/replication/policies/{id}', { params: { path: { id: p.id } }, body: { ...bodyOf(p), enabled: !p.enabled } });
    setNotice(error ? { text: t('admin.failed', { message: errorMessage(error) }), error: true } : { text: t(p.enabled ? 'admin.replication.disabledDone' : 'admin.replication.enabledDone', { name: p.name }) });
    reload();
  };

  return (
    <AdminPage
      id="replication"
      title={t('admin.replication.title')}
      action={
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          {t('admin.replication.new')}
        </button>
      }
    >
      <Notice text={notice?.text} error={notice?.error} />
      <p>
        <a href="/admin/replication/executions">{t('admin.replication.allExecutions')}</a>
      </p>
      <NameSearch label={t('admin.replication.search')} placeholder={t('admin.nameContains')} />
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={name ? t('admin.emptySearch', { q: name }) : t('admin.replication.empty')}
        head={() => (
          <>
            <SortHeader column="name" label={t('admin.col.name')} sort={sort} />
            <SortHeader column="mode" label={t('admin.replication.col.mode')} sort={sort} />
            <th scope="col">{t('admin.replication.col.endpoint')}</th>
            <th scope="col">{t('admin.replication.col.what')}</th>
            <SortHeader column="trigger" label={t('admin.replication.col.trigger')} sort={sort} />
            <SortHeader column="enabled" label={t('admin.replication.col.enabled')} sort={sort} />
            <ActionsHeader label={t('admin.col.actions')} />
          </>
        )}
        row={(p) => (
          <tr key={p.id}>
            <th scope="row">
              <a href={`/admin/replication/executions?policy=${p.id}`} aria-label={t('admin.replication.executionsOf', { name: p.name })}>
                {p.name}
              </a>
            </th>
            <td>{t(`admin.replication.mode.${p.mode}` as MessageKey)}</td>
            <td>{p.endpoint}</td>
            <td>
              <WhatSummary policy={p} />
            </td>
            <td>
              {t(`admin.replication.trigger.${p.trigger}` as MessageKey)}
              {p.cron && <code> {p.cron}</code>}
            </td>
            <td>{p.enabled ? <span class="badge yes">{t('admin.yes')}</span> : <span class="badge no">{t('admin.no')}</span>}</td>
            <td class="actions">
              {p.enabled && (
                <button type="button" class="primary" aria-label={t('admin.replication.startNamed', { name: p.name })} onClick={() => void start(p)}>
                  {t('admin.replication.start')}
                </button>
              )}
              <button type="button" aria-label={t(p.enabled ? 'admin.replication.disableNamed' : 'admin.replication.enableNamed', { name: p.name })} onClick={() => void toggle(p)}>
                {t(p.enabled ? 'admin.replication.disable' : 'admin.replication.enable')}
              </button>
              <button type="button" aria-label={t('admin.editNamed', { name: p.name })} onClick={() => setEditing(p)}>
                {t('admin.edit')}
              </button>
              <button type="button" class="danger" aria-label={t('admin.replication.deleteNamed', { name: p.name })} onClick={() => setDeleting(p)}>
                {t('confirm.delete')}
              </button>
            </td>
          </tr>
        )}
      />
      <PolicyForm
        policy={editing}
        onClose={() => setEditing(undefined)}
        onSaved={(n, created) => {
          setEditing(undefined);
          setNotice({ text: t(created ? 'admin.replication.created' : 'admin.replication.saved', { name: n }) });
          reload();
        }}
      />
      <Confirm
        open={deleting !== undefined}
        title={t('admin.replication.deleteTitle', { name: deleting?.name ?? '' })}
        body={t('admin.replication.deleteBody', { name: deleting?.name ?? '' })}
        confirmLabel={t('confirm.delete')}
        onClose={() => setDeleting(undefined)}
        action={async () => {
          const p = deleting;
          if (!p) return undefined;
          const { error } = await api.DELETE('/replication/policies/{id}', { params: { path: { id: p.id } } });
          if (error) return errorMessage(error);
          setDeleting(undefined);
          setNotice({ text: t('admin.replication.deleted', { name: p.name }) });
          reload();
          return undefined;
        }}
      />
    </AdminPage>
  );
}

/** What a policy copies: its filters in the form's notation, and where to. */
function WhatSummary({ policy: p }: { policy: Policy }) {
  const repos = filtersToText(p.filters.repositories).replace(/\n/g, ', ');
  const tags = filtersToText(p.filters.tags).replace(/\n/g, ', ');
  return (
    <>
      <code>{repos || t('admin.replication.everything')}</code>
      {tags && <span> {t('admin.replication.tagsSummary', { tags })}</span>}
      {p.destinationNamespace && <div class="hint">{t('admin.replication.into', { namespace: p.destinationNamespace })}</div>}
    </>
  );
}

/** A stored policy as the body that saves it unchanged. */
function bodyOf(p: Policy): PolicyBody {
  return {
    name: p.name,
    description: p.description,
    mode: p.mode === 'pull' ? 'pull' : 'push',
    endpoint: p.endpoint,
    filters: p.filters,
    ...(p.destinationNamespace ? { destinationNamespace: p.destinationNamespace } : {}),
    flatten: p.flatten,
    trigger: p.trigger === 'scheduled' ? 'scheduled' : p.trigger === 'event' ? 'event' : 'manual',
    ...(p.cron ? { cron: p.cron } : {}),
    replicateDeletion: p.replicateDeletion,
    override: p.override,
    bandwidthKbps: p.bandwidthKbps,
    chunkSize: p.chunkSize,
    enabled: p.enabled,
  };
}

const FLATTENS: readonly Flatten[] = ['none', 1, 2, 3, 'all'];

function PolicyForm({ policy, onClose, onSaved }: { policy: Policy | 'new' | undefined; onClose: () => void; onSaved: (name: string, created: boolean) => void }) {
  const existing = typeof policy === 'object' ? policy : undefined;
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [mode, setMode] = useState<'push' | 'pull'>('push');
  const [endpoint, setEndpoint] = useState('');
  const [repos, setRepos] = useState('');
  const [tags, setTags] = useState('');
  const [namespace, setNamespace] = useState('');
  const [flatten, setFlatten] = useState<Flatten>('none');
  const [trigger, setTrigger] = useState<'manual' | 'scheduled' | 'event'>('manual');
  const [cron, setCron] = useState('');
  const [override, setOverride] = useState(true);
  const [deletion, setDeletion] = useState(false);
  const [enabled, setEnabled] = useState(true);
  const [endpoints, setEndpoints] = useState<string[] | undefined>();
  useEffect(() => {
    if (policy === undefined) return;
    const b = existing ? bodyOf(existing) : undefined;
    setName(b?.name ?? '');
    setDescription(b?.description ?? '');
    setMode(b?.mode ?? 'push');
    setEndpoint(b?.endpoint ?? '');
    setRepos(filtersToText(b?.filters?.repositories ?? []));
    setTags(filtersToText(b?.filters?.tags ?? []));
    setNamespace(b?.destinationNamespace ?? '');
    setFlatten(b?.flatten ?? 'none');
    setTrigger(b?.trigger ?? 'manual');
    setCron(b?.cron ?? '');
    setOverride(b?.override ?? true);
    setDeletion(b?.replicateDeletion ?? false);
    setEnabled(b?.enabled ?? true);
    void api.GET('/registries', { params: { query: { page_size: 100 } } }).then(({ data }) => {
      const names = (data ?? []).map((e) => e.name);
      setEndpoints(names);
      if (!b && names[0]) setEndpoint(names[0]);
    });
  }, [policy]);
  return (
    <FormDialog
      open={policy !== undefined}
      title={existing ? t('admin.replication.editTitle', { name: existing.name }) : t('admin.replication.new')}
      submitLabel={existing ? t('admin.save') : t('admin.create')}
      onClose={onClose}
      submit={async () => {
        const body: PolicyBody = {
          ...(existing ? bodyOf(existing) : {}),
          name,
          description,
          mode,
          endpoint,
          filters: { repositories: textToFilters(repos), tags: textToFilters(tags) },
          flatten,
          trigger,
          override,
          replicateDeletion: deletion,
          enabled,
        };
        if (namespace) body.destinationNamespace = namespace;
        else delete body.destinationNamespace;
        if (trigger === 'scheduled') body.cron = cron;
        else delete body.cron;
        const result = existing ? await api.PUT('/replication/policies/{id}', { params: { path: { id: existing.id } }, body }) : await api.POST('/replication/policies', { body });
        if (result.error || !result.data) return errorMessage(result.error);
        onSaved(result.data.name, !existing);
        return undefined;
      }}
    >
      <label for="pol-name">{t('admin.col.name')}</label>
      <input id="pol-name" required maxLength={128} pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <label for="pol-description">{t('admin.description')}</label>
      <input id="pol-description" maxLength={1024} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      <label for="pol-mode">{t('admin.replication.col.mode')}</label>
      <select id="pol-mode" value={mode} onChange={(e) => setMode(e.currentTarget.value as 'push' | 'pull')}>
        <option value="push">{t('admin.replication.mode.push')}</option>
        <option value="pull">{t('admin.replication.mode.pull')}</option>
      </select>
      <label for="pol-endpoint">{t('admin.replication.col.endpoint')}</label>
      <select id="pol-endpoint" required value={endpoint} onChange={(e) => setEndpoint(e.currentTarget.value)}>
        {endpoints?.length === 0 && <option value="">{t('admin.replication.noEndpoints')}</option>}
        {(endpoints ?? []).map((n) => (
          <option value={n}>{n}</option>
        ))}
      </select>
      <label for="pol-repos">{t('admin.replication.repositories')}</label>
      <textarea id="pol-repos" rows={2} aria-describedby="pol-filter-help" placeholder="library/**" value={repos} onInput={(e) => setRepos(e.currentTarget.value)} />
      <label for="pol-tags">{t('admin.replication.tags')}</label>
      <textarea id="pol-tags" rows={2} aria-describedby="pol-filter-help" placeholder="v*" value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
      <small id="pol-filter-help">{t('admin.replication.filterHelp')}</small>
      <label for="pol-namespace">{t('admin.replication.namespace')}</label>
      <input id="pol-namespace" maxLength={255} value={namespace} onInput={(e) => setNamespace(e.currentTarget.value)} />
      <label for="pol-flatten">{t('admin.replication.flatten')}</label>
      <select id="pol-flatten" value={String(flatten)} onChange={(e) => setFlatten(FLATTENS.find((f) => String(f) === e.currentTarget.value) ?? 'none')}>
        {FLATTENS.map((f) => (
          <option value={String(f)}>{t(`admin.replication.flatten.${f}` as MessageKey)}</option>
        ))}
      </select>
      <label for="pol-trigger">{t('admin.replication.col.trigger')}</label>
      <select id="pol-trigger" value={trigger} onChange={(e) => setTrigger(e.currentTarget.value as 'manual' | 'scheduled' | 'event')}>
        <option value="manual">{t('admin.replication.trigger.manual')}</option>
        <option value="scheduled">{t('admin.replication.trigger.scheduled')}</option>
        <option value="event">{t('admin.replication.trigger.event')}</option>
      </select>
      {trigger === 'scheduled' && (
        <>
          <label for="pol-cron">{t('admin.cron')}</label>
          <input id="pol-cron" required value={cron} placeholder="0 3 * * *" onInput={(e) => setCron(e.currentTarget.value)} />
        </>
      )}
      <label class="check">
        <input type="checkbox" checked={override} onChange={(e) => setOverride(e.currentTarget.checked)} />
        {t('admin.replication.override')}
      </label>
      {trigger === 'event' && mode === 'push' && (
        <label class="check">
          <input type="checkbox" checked={deletion} onChange={(e) => setDeletion(e.currentTarget.checked)} />
          {t('admin.replication.replicateDeletion')}
        </label>
      )}
      <label class="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        {t('admin.replication.enabled')}
      </label>
    </FormDialog>
  );
}
