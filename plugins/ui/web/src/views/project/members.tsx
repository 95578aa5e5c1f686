import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { Confirm } from '../../components/confirm.js';
import { FormDialog } from '../../components/form-dialog.js';
import { ApiFailure, useLoad } from '../../components/load.js';
import { Notice } from '../../components/notice.js';
import { listQuery } from '../../components/list-query.js';
import { NameSearch } from '../../components/name-search.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { formatDate, t } from '../../i18n/index.js';
import { intParam, useLocation } from '../../router.js';
import { useSession } from '../../session-context.js';
import { roleLabel } from '../projects.js';
import { loadProject, mayManageProject, type ActionNotice } from './access.js';
import './project.css';

type Member = components['schemas']['Member'];
type RoleName = 'projectAdmin' | 'maintainer' | 'developer' | 'guest' | 'limitedGuest';
/** Strongest first, as Harbor lists them. */
const ROLE_NAMES: readonly RoleName[] = ['projectAdmin', 'maintainer', 'developer', 'guest', 'limitedGuest'];
const PAGE_SIZE = 20;
/** Columns the server sorts members by (listMembers' `sort` fields; by default kind, then name). */
const SORTS = ['name', 'kind', 'roleId', 'createdAt'];

const kindLabel = (kind: Member['kind']) => (kind === 'user' ? t('members.kind.user') : t('members.kind.group'));

/**
 * A project's members (users and user groups such as LDAP groups) with their roles. Everyone
 * with a role may read the list; only project admins and system administrators are offered
 * add, change role and remove (the API decides again on each).
 */
export function ProjectMembers({ project }: { project: string }) {
  const loc = useLocation();
  const { user } = useSession();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const [notice, setNotice] = useState<ActionNotice | undefined>();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Member | undefined>();
  const sort = listSort(loc, SORTS);
  const [load, reload] = useLoad(`${project}|${page}|${name}|${sort.param}`, async () => {
    const [info, list] = await Promise.all([
      loadProject(project),
      api.GET('/projects/{project_name}/members', {
        params: { path: { project_name: project }, query: listQuery(page, PAGE_SIZE, sort, { field: 'name', text: name }) },
      }),
    ]);
    if (list.error || !list.data) throw new ApiFailure(errorMessage(list.error), list.response.status);
    return { manage: mayManageProject(user, info.currentUserRole), items: list.data, total: totalOf(list.response) };
  });
  const manage = load.state === 'done' && load.value.manage;

  const changeRole = async (m: Member, roleName: RoleName) => {
    const { error } = await api.PUT('/projects/{project_name}/members/{member_id}', {
      params: { path: { project_name: project, member_id: m.id } },
      body: { roleName },
    });
    setNotice(error ? { text: () => errorMessage(error), error: true } : { text: () => t('members.roleChanged', { name: m.name, role: roleLabel(roleName) }) });
    reload();
  };

  return (
    <>
      <div class="title-row">
        <h2>{t('members.title')}</h2>
        {manage && (
          <button type="button" class="primary" onClick={() => setAdding(true)}>
            {t('members.add')}
          </button>
        )}
      </div>
      <Notice text={notice?.text()} error={notice?.error} />
      <NameSearch label={t('members.search')} placeholder={t('members.searchPlaceholder')} />
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={name ? t('members.emptySearch', { q: name }) : t('members.empty')}
        head={({ manage: may }) => (
          <>
            <SortHeader column="name" label={t('members.col.name')} sort={sort} />
            <SortHeader column="kind" label={t('members.col.kind')} sort={sort} />
            <SortHeader column="roleId" label={t('members.col.role')} sort={sort} />
            <SortHeader column="createdAt" label={t('members.col.added')} sort={sort} />
            {may && <ActionsHeader label={t('projects.col.actions')} />}
          </>
        )}
        row={(m, { manage: may }) => (
          <tr key={m.id}>
            <th scope="row">{m.name}</th>
            <td>{kindLabel(m.kind)}</td>
            <td>
              {may ? (
                <select aria-label={t('members.roleOf', { name: m.name })} value={m.roleName} onChange={(e) => void changeRole(m, e.currentTarget.value as RoleName)}>
                  {ROLE_NAMES.map((r) => (
                    <option value={r}>{roleLabel(r)}</option>
                  ))}
                </select>
              ) : (
                roleLabel(m.roleName)
              )}
            </td>
            <td>{formatDate(m.createdAt)}</td>
            {may && (
              <td class="actions">
                <button type="button" class="danger" aria-label={t('members.removeNamed', { name: m.name })} onClick={() => setRemoving(m)}>
                  {t('members.remove')}
                </button>
              </td>
            )}
          </tr>
        )}
      />
      <AddMember
        project={project}
        open={adding}
        onClose={() => setAdding(false)}
        onAdded={(m) => {
          setAdding(false);
          setNotice({ text: () => t('members.added', { name: m.name, role: roleLabel(m.roleName) }) });
          reload();
        }}
      />
      <RemoveMember
        project={project}
        member={removing}
        onClose={() => setRemoving(undefined)}
        onRemoved={(m) => {
          setRemoving(undefined);
          setNotice({ text: () => t('members.removed', { name: m.name }) });
          reload();
        }}
      />
    </>
  );
}

function AddMember({ project, open, onClose, onAdded }: { project: string; open: boolean; onClose: () => void; onAdded: (m: Member) => void }) {
  const [kind, setKind] = useState<Member['kind']>('user');
  const [name, setName] = useState('');
  const [role, setRole] = useState<RoleName>('developer');
  return (
    <FormDialog
      open={open}
      title={t('members.add.title', { project })}
      submitLabel={t('members.add.submit')}
      onClose={onClose}
      submit={async () => {
        const body = kind === 'user' ? { roleName: role, memberUser: { username: name.trim() } } : { roleName: role, memberGroup: { groupName: name.trim() } };
        const { data, error } = await api.POST('/projects/{project_name}/members', { params: { path: { project_name: project } }, body });
        if (error || !data) return errorMessage(error);
        setName('');
        onAdded(data);
        return undefined;
      }}
    >
      <fieldset class="perm-grid">
        <legend>{t('members.add.kind')}</legend>
        <label class="check">
          <input type="radio" name="member-kind" checked={kind === 'user'} onChange={() => setKind('user')} />
          {t('members.kind.user')}
        </label>
        <label class="check">
          <input type="radio" name="member-kind" checked={kind === 'group'} onChange={() => setKind('group')} />
          {t('members.kind.group')}
        </label>
      </fieldset>
      <label for="member-name">{kind === 'user' ? t('members.add.username') : t('members.add.groupName')}</label>
      <input id="member-name" required aria-describedby="member-name-help" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <small id="member-name-help">{kind === 'user' ? t('members.add.usernameHelp') : t('members.add.groupHelp')}</small>
      <label for="member-role">{t('members.col.role')}</label>
      <select id="member-role" value={role} onChange={(e) => setRole(e.currentTarget.value as RoleName)}>
        {ROLE_NAMES.map((r) => (
          <option value={r}>{roleLabel(r)}</option>
        ))}
      </select>
    </FormDialog>
  );
}

function RemoveMember({ project, member, onClose, onRemoved }: { project: string; member: Member | undefined; onClose: () => void; onRemoved: (m: Member) => void }) {
  const name = member?.name ?? '';
  return (
    <Confirm
      open={member !== undefined}
      title={t('members.confirmRemove.title', { name })}
      body={t(member?.kind === 'group' ? 'members.confirmRemove.group' : 'members.confirmRemove.user', { name, project })}
      confirmLabel={t('members.remove')}
      onClose={onClose}
      action={async () => {
        if (!member) return undefined;
        const { error } = await api.DELETE('/projects/{project_name}/members/{member_id}', { params: { path: { project_name: project, member_id: member.id } } });
        if (error) return errorMessage(error);
        onRemoved(member);
        return undefined;
      }}
    />
  );
}
