import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../api/client.js';
import type { components } from '../api/schema.js';
import { useDebouncedInput } from '../components/debounce.js';
import { Dialog } from '../components/dialog.js';
import { ApiFailure, useLoad } from '../components/load.js';
import { ActionsHeader, PagedTable } from '../components/paged-table.js';
import { listSort, SortHeader } from '../components/sort-header.js';
import { formatDate, t, type MessageKey } from '../i18n/index.js';
import { intParam, navigate, useLocation, withQuery } from '../router.js';
import { mayDeleteProject, useSession } from '../session-context.js';

type Project = components['schemas']['Project'];
const PAGE_SIZE = 20;
/** Columns the server sorts projects by (listProjects' `sort` fields). */
const SORTS = ['name', 'createdAt'];

/** `q` for the API from the URL: `name=~text` and `public=true|false`, URL-encoded values. */
function filterOf(name: string, access: string): string | undefined {
  const parts = [];
  if (name) parts.push(`name=~${encodeURIComponent(name)}`);
  if (access === 'public' || access === 'private') parts.push(`public=${access === 'public'}`);
  return parts.length ? parts.join(',') : undefined;
}

export const roleLabel = (role: string | null | undefined) => t(role ? (`role.${role}` as MessageKey) : 'role.none');

export function ProjectsView() {
  const loc = useLocation();
  const { user } = useSession();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const access = loc.query.get('access') ?? '';
  const [notice, setNotice] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Project | undefined>();
  const sort = listSort(loc, SORTS, 'name');
  const [load, reload] = useLoad(`${page}|${name}|${access}|${sort.param}`, async () => {
    const q = filterOf(name, access);
    const { data, error, response } = await api.GET('/projects', { params: { query: { page, page_size: PAGE_SIZE, ...(q ? { q } : {}), ...(sort.param ? { sort: sort.param } : {}) } } });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  const setFilter = (changes: Record<string, string | undefined>) => navigate(withQuery(loc, { ...changes, page: undefined }), { replace: true });
  const [search, setSearch] = useDebouncedInput(name, (v) => setFilter({ name: v }));

  return (
    <section aria-labelledby="projects-title">
      <div class="title-row">
        <h1 id="projects-title">{t('projects.title')}</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          {t('projects.new')}
        </button>
      </div>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>{t('projects.search')}</span>
          <input type="search" value={search} placeholder={t('projects.searchPlaceholder')} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <label>
          <span>{t('projects.filter.access')}</span>
          <select value={access} onChange={(e) => setFilter({ access: e.currentTarget.value })}>
            <option value="">{t('projects.filter.all')}</option>
            <option value="public">{t('projects.public')}</option>
            <option value="private">{t('projects.private')}</option>
          </select>
        </label>
      </form>
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={name ? t('projects.emptySearch', { q: name }) : t('projects.empty')}
        head={() => (
          <>
            <SortHeader column="name" label={t('projects.col.name')} sort={sort} />
            <th scope="col">{t('projects.col.access')}</th>
            <th scope="col">{t('projects.col.role')}</th>
            <SortHeader column="createdAt" label={t('projects.col.created')} sort={sort} />
            <ActionsHeader label={t('projects.col.actions')} />
          </>
        )}
        row={(p) => (
          <tr key={p.name}>
            <td>
              <a href={`/projects/${encodeURIComponent(p.name)}`}>{p.name}</a>
            </td>
            <td>
              <span class={`badge ${p.public ? 'public' : 'private'}`}>{p.public ? t('projects.public') : t('projects.private')}</span>
            </td>
            <td>{roleLabel(p.currentUserRole)}</td>
            <td>{formatDate(p.createdAt)}</td>
            <td class="actions">
              {mayDeleteProject(user, p.currentUserRole) && (
                <button type="button" class="danger" aria-label={t('projects.deleteNamed', { name: p.name })} onClick={() => setDeleting(p)}>
                  {t('projects.delete')}
                </button>
              )}
            </td>
          </tr>
        )}
      />
      <CreateProject
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(n) => {
          setCreating(false);
          setNotice(t('projects.created', { name: n }));
          reload();
        }}
      />
      <DeleteProject
        project={deleting}
        onClose={() => setDeleting(undefined)}
        onDeleted={(n) => {
          setDeleting(undefined);
          setNotice(t('projects.deleted', { name: n }));
          reload();
        }}
      />
    </section>
  );
}

function CreateProject({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (name: string) => void }) {
  const { user } = useSession();
  const [name, setName] = useState('');
  const [isPublic, setPublic] = useState(false);
  // System administrators set quotas (the quotas plugin's API); empty keeps the configured default.
  const [storageQuota, setStorageQuota] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const { error: failure } = await api.POST('/projects', { body: { name, public: isPublic } });
    if (failure) {
      setBusy(false);
      return setError(errorMessage(failure));
    }
    const size = storageQuota.trim();
    if (user.admin && size !== '') {
      const { error: quotaFailure } = await api.PUT('/projects/{project_name}/quota', {
        params: { path: { project_name: name } },
        body: { hard: { storage: /^-?\d+$/.test(size) ? Number(size) : size } },
      });
      if (quotaFailure) {
        setBusy(false);
        // The project exists: say so, and why its quota is not set.
        return setError(t('projects.create.quotaFailed', { name, message: errorMessage(quotaFailure) }));
      }
    }
    setBusy(false);
    setName('');
    setPublic(false);
    setStorageQuota('');
    setError(undefined);
    onCreated(name);
  };
  return (
    <Dialog open={open} title={t('projects.create.title')} onClose={onClose}>
      <form onSubmit={submit}>
        {error && (
          <p class="notice error" role="alert">
            {error}
          </p>
        )}
        <label for="project-name">{t('projects.create.name')}</label>
        <input id="project-name" required pattern="[a-z0-9]+([._\-][a-z0-9]+)*" aria-describedby="project-name-help" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <small id="project-name-help">{t('projects.create.nameHelp')}</small>
        <label class="check">
          <input type="checkbox" checked={isPublic} onChange={(e) => setPublic(e.currentTarget.checked)} />
          {t('projects.create.public')}
        </label>
        {user.admin && (
          <>
            <label for="project-quota">{t('projects.create.quota')}</label>
            <input id="project-quota" aria-describedby="project-quota-help" placeholder="10 GiB" value={storageQuota} onInput={(e) => setStorageQuota(e.currentTarget.value)} />
            <small id="project-quota-help">{t('projects.create.quotaHelp')}</small>
          </>
        )}
        <div class="buttons">
          <button type="button" onClick={onClose}>
            {t('confirm.cancel')}
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {t('projects.create.submit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteProject({ project, onClose, onDeleted }: { project: Project | undefined; onClose: () => void; onDeleted: (name: string) => void }) {
  const [error, setError] = useState<string | undefined>();
  const name = project?.name ?? '';
  const confirm = async () => {
    const { error: failure } = await api.DELETE('/projects/{project_name}', { params: { path: { project_name: name } } });
    if (failure) return setError(errorMessage(failure));
    setError(undefined);
    onDeleted(name);
  };
  return (
    <Dialog
      open={project !== undefined}
      title={t('confirm.deleteProject.title', { name })}
      onClose={() => {
        setError(undefined);
        onClose();
      }}
    >
      <p>{t('confirm.deleteProject.body', { name })}</p>
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
      <div class="buttons">
        <button type="button" onClick={onClose}>
          {t('confirm.cancel')}
        </button>
        <button type="button" class="danger" onClick={confirm}>
          {t('confirm.delete')}
        </button>
      </div>
    </Dialog>
  );
}
