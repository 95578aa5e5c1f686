import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { ApiFailure } from '../../components/load.js';
import { listQuery } from '../../components/list-query.js';
import { NameSearch } from '../../components/name-search.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { formatDate, t } from '../../i18n/index.js';
import { intParam, useLocation } from '../../router.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { Confirm } from '../../components/confirm.js';
import { FormDialog } from '../../components/form-dialog.js';
import { Notice } from '../../components/notice.js';
import { AdminPage, useLiveLoad } from './common.js';

type Endpoint = components['schemas']['RegistryEndpoint'];
type Ping = components['schemas']['RegistryPing'];
const PAGE_SIZE = 20;
/** Columns the server sorts registries by (listRegistries' `sort` fields). */
const SORTS = ['name', 'url', 'type', 'updatedAt'];
const SORT = 'name';

/** What a ping answered, as one line (the registry's own words on failure). */
const pingText = (name: string, p: Ping) => (p.ok ? t('admin.registries.pingOk', { name, message: p.message }) : t('admin.registries.pingFailed', { name, message: p.message }));

/**
 * Registry endpoints (replication peers). Secrets are write-only: the list says whether one is
 * stored, never what it is; "Test connection" checks a saved endpoint or the unsaved form.
 */
export function AdminRegistriesView() {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | undefined>();
  const [editing, setEditing] = useState<Endpoint | 'new' | undefined>();
  const [deleting, setDeleting] = useState<Endpoint | undefined>();
  const sort = listSort(loc, SORTS, SORT);
  const [load, reload] = useLiveLoad(`${page}|${name}|${sort.param}`, async () => {
    const { data, error, response } = await api.GET('/registries', { params: { query: listQuery(page, PAGE_SIZE, sort, { field: 'name', text: name }) } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  const ping = async (e: Endpoint) => {
    setNotice({ text: t('admin.registries.pinging', { name: e.name }) });
    const { data, error } = await api.POST('/registries/{id}/ping', { params: { path: { id: e.id } } });
    setNotice(data ? { text: pingText(e.name, data), error: !data.ok } : { text: t('admin.failed', { message: errorMessage(error) }), error: true });
  };
  return (
    <AdminPage
      id="registries"
      title={t('admin.registries.title')}
      action={
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          {t('admin.registries.new')}
        </button>
      }
    >
      <Notice text={notice?.text} error={notice?.error} />
      <NameSearch label={t('admin.registries.search')} placeholder={t('admin.nameContains')} />
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={name ? t('admin.emptySearch', { q: name }) : t('admin.registries.empty')}
        head={() => (
          <>
            <SortHeader column="name" label={t('admin.col.name')} sort={sort} />
            <SortHeader column="url" label={t('admin.registries.col.url')} sort={sort} />
            <SortHeader column="type" label={t('admin.registries.col.type')} sort={sort} />
            <th scope="col">{t('admin.registries.col.credentials')}</th>
            <SortHeader column="updatedAt" label={t('admin.col.updated')} sort={sort} />
            <ActionsHeader label={t('admin.col.actions')} />
          </>
        )}
        row={(e) => (
          <tr key={e.id}>
            <th scope="row">{e.name}</th>
            <td>
              <code>{e.url}</code>
              {e.insecure && <span class="badge stuck"> {t('admin.registries.insecure')}</span>}
            </td>
            <td>{e.type}</td>
            <td>{e.username ? t(e.hasSecret ? 'admin.registries.userWithSecret' : 'admin.registries.userOnly', { user: e.username }) : e.hasSecret ? t('admin.registries.secretOnly') : t('admin.registries.anonymous')}</td>
            <td>{formatDate(e.updatedAt)}</td>
            <td class="actions">
              <button type="button" aria-label={t('admin.registries.testNamed', { name: e.name })} onClick={() => void ping(e)}>
                {t('admin.registries.test')}
              </button>
              <button type="button" aria-label={t('admin.editNamed', { name: e.name })} onClick={() => setEditing(e)}>
                {t('admin.edit')}
              </button>
              <button type="button" class="danger" aria-label={t('admin.registries.deleteNamed', { name: e.name })} onClick={() => setDeleting(e)}>
                {t('confirm.delete')}
              </button>
            </td>
          </tr>
        )}
      />
      <EndpointForm
        endpoint={editing}
        onClose={() => setEditing(undefined)}
        onSaved={(n, created) => {
          setEditing(undefined);
          setNotice({ text: t(created ? 'admin.registries.created' : 'admin.registries.saved', { name: n }) });
          reload();
        }}
      />
      <Confirm
        open={deleting !== undefined}
        title={t('admin.registries.deleteTitle', { name: deleting?.name ?? '' })}
        body={t('admin.registries.deleteBody', { name: deleting?.name ?? '' })}
        confirmLabel={t('confirm.delete')}
        onClose={() => setDeleting(undefined)}
        action={async () => {
          const e = deleting;
          if (!e) return undefined;
          const { error } = await api.DELETE('/registries/{id}', { params: { path: { id: e.id } } });
          if (error) return errorMessage(error);
          setDeleting(undefined);
          setNotice({ text: t('admin.registries.deleted', { name: e.name }) });
          reload();
          return undefined;
        }}
      />
    </AdminPage>
  );
}

function EndpointForm({ endpoint, onClose, onSaved }: { endpoint: Endpoint | 'new' | undefined; onClose: () => void; onSaved: (name: string, created: boolean) => void }) {
  const existing = typeof endpoint === 'object' ? endpoint : undefined;
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [type, setType] = useState('oci');
  const [url, setUrl] = useState('');
  const [username, setUsername] = useState('');
  const [secret, setSecret] = useState('');
  const [removeSecret, setRemoveSecret] = useState(false);
  const [insecure, setInsecure] = useState(false);
  const [ca, setCa] = useState('');
  const [ping, setPing] = useState<{ ok: boolean; text: string } | undefined>();
  const [pinging, setPinging] = useState(false);
  useEffect(() => {
    setName(existing?.name ?? '');
    setDescription(existing?.description ?? '');
    setType(existing?.type ?? 'oci');
    setUrl(existing?.url ?? '');
    setUsername(existing?.username ?? '');
    setSecret('');
    setRemoveSecret(false);
    setInsecure(existing?.insecure ?? false);
    setCa(existing?.caCertificate ?? '');
    setPing(undefined);
  }, [endpoint]);
  // On update, an empty secret field keeps the stored secret; "remove" sends "" to drop it.
  const secretField = secret ? { secret } : existing && removeSecret ? { secret: '' } : {};
  const body = () => ({ name, description, type, url, insecure, ...(username ? { username } : {}), ...secretField, ...(ca ? { caCertificate: ca } : {}) });
  const test = async () => {
    setPinging(true);
    setPing(undefined);
    // The unsaved form as typed; an existing endpoint's stored secret is used when none is typed.
    const keepsSecret = existing?.hasSecret && !secret && !removeSecret && url === existing.url && username === (existing.username ?? '');
    const result = keepsSecret
      ? await api.POST('/registries/{id}/ping', { params: { path: { id: existing.id } } })
      : await api.POST('/registries/ping', { body: { type, url, insecure, ...(username ? { username } : {}), ...(secret ? { secret } : {}), ...(ca ? { caCertificate: ca } : {}) } });
    setPinging(false);
    const label = name || url;
    setPing(result.data ? { ok: result.data.ok, text: pingText(label, result.data) } : { ok: false, text: t('admin.registries.pingFailed', { name: label, message: errorMessage(result.error) }) });
  };
  return (
    <FormDialog
      open={endpoint !== undefined}
      title={existing ? t('admin.registries.editTitle', { name: existing.name }) : t('admin.registries.new')}
      submitLabel={existing ? t('admin.save') : t('admin.create')}
      onClose={onClose}
      submit={async () => {
        const result = existing ? await api.PUT('/registries/{id}', { params: { path: { id: existing.id } }, body: body() }) : await api.POST('/registries', { body: body() });
        if (result.error || !result.data) return errorMessage(result.error);
        onSaved(result.data.name, !existing);
        return undefined;
      }}
      extra={
        <button type="button" disabled={pinging || !url} onClick={() => void test()}>
          {t('admin.registries.test')}
        </button>
      }
    >
      <label for="reg-name">{t('admin.col.name')}</label>
      <input id="reg-name" required maxLength={128} pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <label for="reg-url">{t('admin.registries.col.url')}</label>
      <input id="reg-url" type="url" required aria-describedby="reg-url-help" placeholder="https://registry.example.org" value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
      <small id="reg-url-help">{t('admin.registries.urlHelp')}</small>
      <label for="reg-type">{t('admin.registries.col.type')}</label>
      <input id="reg-type" required maxLength={64} value={type} onInput={(e) => setType(e.currentTarget.value)} />
      <label for="reg-description">{t('admin.description')}</label>
      <input id="reg-description" maxLength={1024} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      <label for="reg-username">{t('admin.registries.username')}</label>
      <input id="reg-username" autoComplete="off" maxLength={255} value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
      <label for="reg-secret">{t('admin.registries.secret')}</label>
      <input
        id="reg-secret"
        type="password"
        autoComplete="new-password"
        aria-describedby="reg-secret-help"
        value={secret}
        onInput={(e) => setSecret(e.currentTarget.value)}
      />
      <small id="reg-secret-help">{existing?.hasSecret ? t('admin.registries.secretKept') : t('admin.registries.secretHelp')}</small>
      {existing?.hasSecret && (
        <label class="check">
          <input type="checkbox" checked={removeSecret} onChange={(e) => setRemoveSecret(e.currentTarget.checked)} />
          {t('admin.registries.removeSecret')}
        </label>
      )}
      <label class="check">
        <input type="checkbox" checked={insecure} onChange={(e) => setInsecure(e.currentTarget.checked)} />
        {t('admin.registries.insecureHelp')}
      </label>
      <label for="reg-ca">{t('admin.registries.ca')}</label>
      <textarea id="reg-ca" rows={3} value={ca} onInput={(e) => setCa(e.currentTarget.value)} />
      {pinging && (
        <p class="ping" role="status">
          {t('admin.registries.pinging', { name: name || url })}
        </p>
      )}
      {ping && (
        <p class={`ping ${ping.ok ? 'ok' : 'failed'}`} role={ping.ok ? 'status' : 'alert'}>
          {ping.text}
        </p>
      )}
    </FormDialog>
  );
}
