import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { ApiFailure } from '../../components/load.js';
import { listQuery } from '../../components/list-query.js';
import { NameSearch } from '../../components/name-search.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { formatDate, t } from '../../i18n/index.js';
import { intParam, useLocation } from '../../router.js';
import { useSession } from '../../session-context.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { Confirm } from '../../components/confirm.js';
import { FormDialog } from '../../components/form-dialog.js';
import { Notice } from '../../components/notice.js';
import { AdminPage, useLiveLoad } from './common.js';

type User = components['schemas']['User'];
const PAGE_SIZE = 20;
/** Columns the server sorts users by (listUsers' `sort` fields). */
const SORTS = ['username', 'provider', 'admin', 'disabled', 'createdAt'];
const SORT = 'username';

/** Users: search by name, create, grant or revoke admin, disable, reset a password, delete. */
export function AdminUsersView() {
  const loc = useLocation();
  const { user: me } = useSession();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const [notice, setNotice] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const [password, setPassword] = useState<User | undefined>();
  const [deleting, setDeleting] = useState<User | undefined>();
  const sort = listSort(loc, SORTS, SORT);
  const [load, reload] = useLiveLoad(`${page}|${name}|${sort.param}`, async () => {
    const { data, error, response } = await api.GET('/users', { params: { query: listQuery(page, PAGE_SIZE, sort, { field: 'username', text: name }) } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });

  const patch = async (u: User, body: { admin?: boolean; disabled?: boolean }, done: string) => {
    const { error } = await api.PATCH('/users/{username}', { params: { path: { username: u.username } }, body });
    setNotice(error ? t('admin.failed', { message: errorMessage(error) }) : done);
    reload();
  };

  return (
    <AdminPage
      id="users"
      title={t('admin.users.title')}
      action={
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          {t('admin.users.new')}
        </button>
      }
    >
      <Notice text={notice} />
      <NameSearch label={t('admin.users.search')} placeholder={t('admin.nameContains')} />
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={name ? t('admin.emptySearch', { q: name }) : t('admin.users.empty')}
        head={() => (
          <>
            <SortHeader column="username" label={t('admin.users.col.username')} sort={sort} />
            <SortHeader column="provider" label={t('admin.users.col.provider')} sort={sort} />
            <SortHeader column="admin" label={t('admin.users.col.admin')} sort={sort} />
            <SortHeader column="disabled" label={t('admin.users.col.status')} sort={sort} />
            <SortHeader column="createdAt" label={t('admin.col.created')} sort={sort} />
            <ActionsHeader label={t('admin.col.actions')} />
          </>
        )}
        row={(u) => {
          const self = u.username === me.name;
          const local = u.provider === 'db';
          return (
            <tr key={u.username}>
              <th scope="row">{u.username}</th>
              <td>{u.provider}</td>
              <td>{u.admin ? <span class="badge yes">{t('admin.users.isAdmin')}</span> : '—'}</td>
              <td>{u.disabled ? <span class="badge stuck">{t('admin.users.disabled')}</span> : t('admin.users.active')}</td>
              <td>{formatDate(u.createdAt)}</td>
              <td class="actions">
                {!self && local && (
                  <button
                    type="button"
                    aria-label={t(u.admin ? 'admin.users.revokeAdminNamed' : 'admin.users.grantAdminNamed', { name: u.username })}
                    onClick={() => void patch(u, { admin: !u.admin }, t(u.admin ? 'admin.users.adminRevoked' : 'admin.users.adminGranted', { name: u.username }))}
                  >
                    {t(u.admin ? 'admin.users.revokeAdmin' : 'admin.users.grantAdmin')}
                  </button>
                )}
                {!self && local && (
                  <button
                    type="button"
                    aria-label={t(u.disabled ? 'admin.users.enableNamed' : 'admin.users.disableNamed', { name: u.username })}
                    onClick={() => void patch(u, { disabled: !u.disabled }, t(u.disabled ? 'admin.users.enabled' : 'admin.users.disabledDone', { name: u.username }))}
                  >
                    {t(u.disabled ? 'admin.users.enable' : 'admin.users.disable')}
                  </button>
                )}
                {!self && local && (
                  <button type="button" aria-label={t('admin.users.passwordNamed', { name: u.username })} onClick={() => setPassword(u)}>
                    {t('admin.users.password')}
                  </button>
                )}
                {!self && (
                  <button type="button" class="danger" aria-label={t('admin.users.deleteNamed', { name: u.username })} onClick={() => setDeleting(u)}>
                    {t('confirm.delete')}
                  </button>
                )}
              </td>
            </tr>
          );
        }}
      />
      <CreateUser
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(n) => {
          setCreating(false);
          setNotice(t('admin.users.created', { name: n }));
          reload();
        }}
      />
      <SetPassword
        user={password}
        onClose={() => setPassword(undefined)}
        onDone={(n) => {
          setPassword(undefined);
          setNotice(t('admin.users.passwordSet', { name: n }));
        }}
      />
      <Confirm
        open={deleting !== undefined}
        title={t('admin.users.deleteTitle', { name: deleting?.username ?? '' })}
        body={t('admin.users.deleteBody', { name: deleting?.username ?? '' })}
        confirmLabel={t('confirm.delete')}
        onClose={() => setDeleting(undefined)}
        action={async () => {
          const n = deleting?.username ?? '';
          const { error } = await api.DELETE('/users/{username}', { params: { path: { username: n } } });
          if (error) return errorMessage(error);
          setDeleting(undefined);
          setNotice(t('admin.users.deleted', { name: n }));
          reload();
          return undefined;
        }}
      />
    </AdminPage>
  );
}

function CreateUser({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (name: string) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(false);
  return (
    <FormDialog
      open={open}
      title={t('admin.users.new')}
      submitLabel={t('admin.create')}
      onClose={onClose}
      submit={async () => {
        const { data, error } = await api.POST('/users', { body: { username, password, admin } });
        if (error || !data) return errorMessage(error);
        setUsername('');
        setPassword('');
        setAdmin(false);
        onCreated(data.username);
        return undefined;
      }}
    >
      <label for="user-name">{t('admin.users.col.username')}</label>
      <input id="user-name" required maxLength={64} autoComplete="off" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
      <label for="user-password">{t('admin.users.initialPassword')}</label>
      <input id="user-password" type="password" required autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      <label class="check">
        <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} />
        {t('admin.users.makeAdmin')}
      </label>
    </FormDialog>
  );
}

function SetPassword({ user, onClose, onDone }: { user: User | undefined; onClose: () => void; onDone: (name: string) => void }) {
  const [password, setPassword] = useState('');
  const name = user?.username ?? '';
  return (
    <FormDialog
      open={user !== undefined}
      title={t('admin.users.passwordTitle', { name })}
      submitLabel={t('admin.save')}
      onClose={onClose}
      submit={async () => {
        const { error } = await api.PUT('/users/{username}/password', { params: { path: { username: name } }, body: { newPassword: password } });
        if (error) return errorMessage(error);
        setPassword('');
        onDone(name);
        return undefined;
      }}
    >
      <label for="user-new-password">{t('admin.users.newPassword')}</label>
      <input id="user-new-password" type="password" required autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
    </FormDialog>
  );
}
