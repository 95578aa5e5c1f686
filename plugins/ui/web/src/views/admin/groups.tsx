import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { ApiFailure } from '../../components/load.js';
import { listQuery } from '../../components/list-query.js';
import { NameSearch } from '../../components/name-search.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { formatDate, t, type MessageKey } from '../../i18n/index.js';
import { intParam, useLocation } from '../../router.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { Confirm } from '../../components/confirm.js';
import { FormDialog } from '../../components/form-dialog.js';
import { Notice } from '../../components/notice.js';
import { AdminPage, useLiveLoad } from './common.js';

type Group = components['schemas']['UserGroup'];
type GroupType = Group['type'];
const PAGE_SIZE = 20;
/** Columns the server sorts user groups by (listUserGroups' `sort` fields). */
const SORTS = ['name', 'type', 'createdAt'];
const SORT = 'name';
const TYPES: readonly GroupType[] = ['ldap', 'http', 'oidc', 'local'];
const typeLabel = (type: string) => t(`admin.groups.type.${type}` as MessageKey);

/** User groups (for project membership): the name auth plugins report, and e.g. the LDAP group DN. */
export function AdminGroupsView() {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const [notice, setNotice] = useState<string | undefined>();
  const [editing, setEditing] = useState<Group | 'new' | undefined>();
  const [deleting, setDeleting] = useState<Group | undefined>();
  const sort = listSort(loc, SORTS, SORT);
  const [load, reload] = useLiveLoad(`${page}|${name}|${sort.param}`, async () => {
    const { data, error, response } = await api.GET('/usergroups', { params: { query: listQuery(page, PAGE_SIZE, sort, { field: 'name', text: name }) } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  return (
    <AdminPage
      id="groups"
      title={t('admin.groups.title')}
      action={
        <button type="button" class="primary" onClick={() => setEditing('new')}>
          {t('admin.groups.new')}
        </button>
      }
    >
      <Notice text={notice} />
      <NameSearch label={t('admin.groups.search')} placeholder={t('admin.nameContains')} />
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={name ? t('admin.emptySearch', { q: name }) : t('admin.groups.empty')}
        head={() => (
          <>
            <SortHeader column="name" label={t('admin.col.name')} sort={sort} />
            <SortHeader column="type" label={t('admin.groups.col.type')} sort={sort} />
            <th scope="col">{t('admin.groups.col.externalId')}</th>
            <SortHeader column="createdAt" label={t('admin.col.created')} sort={sort} />
            <ActionsHeader label={t('admin.col.actions')} />
          </>
        )}
        row={(g) => (
          <tr key={g.id}>
            <th scope="row">{g.name}</th>
            <td>{typeLabel(g.type)}</td>
            <td>{g.externalId ? <code>{g.externalId}</code> : '—'}</td>
            <td>{formatDate(g.createdAt)}</td>
            <td class="actions">
              <button type="button" aria-label={t('admin.editNamed', { name: g.name })} onClick={() => setEditing(g)}>
                {t('admin.edit')}
              </button>
              <button type="button" class="danger" aria-label={t('admin.groups.deleteNamed', { name: g.name })} onClick={() => setDeleting(g)}>
                {t('confirm.delete')}
              </button>
            </td>
          </tr>
        )}
      />
      <GroupForm
        group={editing}
        onClose={() => setEditing(undefined)}
        onSaved={(n, created) => {
          setEditing(undefined);
          setNotice(t(created ? 'admin.groups.created' : 'admin.groups.saved', { name: n }));
          reload();
        }}
      />
      <Confirm
        open={deleting !== undefined}
        title={t('admin.groups.deleteTitle', { name: deleting?.name ?? '' })}
        body={t('admin.groups.deleteBody', { name: deleting?.name ?? '' })}
        confirmLabel={t('confirm.delete')}
        onClose={() => setDeleting(undefined)}
        action={async () => {
          const g = deleting;
          if (!g) return undefined;
          const { error } = await api.DELETE('/usergroups/{group_id}', { params: { path: { group_id: g.id } } });
          if (error) return errorMessage(error);
          setDeleting(undefined);
          setNotice(t('admin.groups.deleted', { name: g.name }));
          reload();
          return undefined;
        }}
      />
    </AdminPage>
  );
}

function GroupForm({ group, onClose, onSaved }: { group: Group | 'new' | undefined; onClose: () => void; onSaved: (name: string, created: boolean) => void }) {
  const existing = typeof group === 'object' ? group : undefined;
  const [name, setName] = useState('');
  const [type, setType] = useState<GroupType>('ldap');
  const [externalId, setExternalId] = useState('');
  useEffect(() => {
    setName(existing?.name ?? '');
    setType(existing?.type ?? 'ldap');
    setExternalId(existing?.externalId ?? '');
  }, [group]);
  return (
    <FormDialog
      open={group !== undefined}
      title={existing ? t('admin.groups.editTitle', { name: existing.name }) : t('admin.groups.new')}
      submitLabel={existing ? t('admin.save') : t('admin.create')}
      onClose={onClose}
      submit={async () => {
        const result = existing
          ? await api.PUT('/usergroups/{group_id}', { params: { path: { group_id: existing.id } }, body: { name, externalId: externalId || null } })
          : await api.POST('/usergroups', { body: { name, type, ...(externalId ? { externalId } : {}) } });
        if (result.error || !result.data) return errorMessage(result.error);
        onSaved(result.data.name, !existing);
        return undefined;
      }}
    >
      <label for="group-name">{t('admin.col.name')}</label>
      <input id="group-name" required maxLength={255} aria-describedby="group-name-help" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <small id="group-name-help">{t('admin.groups.nameHelp')}</small>
      <label for="group-type">{t('admin.groups.col.type')}</label>
      <select id="group-type" value={type} disabled={existing !== undefined} onChange={(e) => setType(e.currentTarget.value as GroupType)}>
        {TYPES.map((k) => (
          <option value={k}>{typeLabel(k)}</option>
        ))}
      </select>
      <label for="group-external">{t('admin.groups.col.externalId')}</label>
      <input id="group-external" maxLength={512} aria-describedby="group-external-help" placeholder="cn=developers,ou=groups,dc=example,dc=org" value={externalId} onInput={(e) => setExternalId(e.currentTarget.value)} />
      <small id="group-external-help">{t('admin.groups.externalHelp')}</small>
    </FormDialog>
  );
}
