import { useState } from 'preact/hooks';
import { api, errorMessage, totalOf } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { useDebouncedInput } from '../../components/debounce.js';
import { ApiFailure, useLoad } from '../../components/load.js';
import { listSort, SortHeader } from '../../components/sort-header.js';
import { listQuery } from '../../components/list-query.js';
import { ActionsHeader, PagedTable } from '../../components/paged-table.js';
import { formatDate, formatNumber, formatSize, t } from '../../i18n/index.js';
import { intParam, navigate, useLocation, withQuery } from '../../router.js';
import { registryHost } from '../registry-host.js';
import { abilities } from '../repository/common.js';
import { DeleteRepositoryDialog } from '../repository/dialogs.js';
import { useSession } from '../../session-context.js';

type Repository = components['schemas']['Repository'];

const PAGE_SIZE = 20;
/** Columns the server sorts repositories by (listRepositories' `sort` fields). */
const SORTS = ['name', 'tagCount', 'artifactCount', 'updatedAt'];

/** A project's repositories tab (the repositories plugin's API), searched and paged on the server. */
export function ProjectRepositories({ project }: { project: string }) {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const { user } = useSession();
  const [deleting, setDeleting] = useState<Repository | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [search, setSearch] = useDebouncedInput(name, (v) => navigate(withQuery(loc, { name: v, page: undefined }), { replace: true }));
  const sort = listSort(loc, SORTS, 'name');
  const [load, reload] = useLoad(`${project}|${page}|${name}|${sort.param}`, async () => {
    // The project itself too: a project that does not exist (or that the user may not see) is a 404, not an empty list.
    const [info, list] = await Promise.all([
      api.GET('/projects/{project_name}', { params: { path: { project_name: project } } }),
      api.GET('/projects/{project_name}/repositories', {
        params: { path: { project_name: project }, query: listQuery(page, PAGE_SIZE, sort, { field: 'name', text: name }) },
      }),
    ]);
    if (info.error || !info.data) throw new ApiFailure(errorMessage(info.error), info.response.status);
    if (list.error || !list.data) throw new ApiFailure(errorMessage(list.error), list.response.status);
    return { items: list.data, total: totalOf(list.response), may: abilities(user, info.data.currentUserRole) };
  });
  return (
    <>
      <h2>{t('project.repositories')}</h2>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>{t('repos.search')}</span>
          <input
            type="search"
            value={search}
            placeholder={t('repos.searchPlaceholder')}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </label>
      </form>
      <PagedTable
        load={load}
        retry={reload}
        page={page}
        pageSize={PAGE_SIZE}
        empty={name ? t('repos.emptySearch', { q: name }) : t('repos.empty', { ref: `${registryHost()}/${project}/<name>:<tag>` })}
        head={({ may }) => (
          <>
            <SortHeader column="name" label={t('repos.col.name')} sort={sort} />
            <SortHeader column="tagCount" label={t('repos.col.tags')} sort={sort} />
            <SortHeader column="artifactCount" label={t('repos.col.artifacts')} sort={sort} />
            <th scope="col">{t('repos.col.size')}</th>
            <SortHeader column="updatedAt" label={t('repos.col.updated')} sort={sort} />
            {may.remove && <ActionsHeader label={t('projects.col.actions')} />}
          </>
        )}
        row={(r, { may }) => {
          const inner = r.name.slice(project.length + 1);
          return (
            <tr key={r.name}>
              <td>
                <a href={`/projects/${encodeURIComponent(project)}/repositories/${inner.split('/').map(encodeURIComponent).join('/')}`}>{inner}</a>
              </td>
              <td>{formatNumber(r.tagCount)}</td>
              <td>{formatNumber(r.artifactCount)}</td>
              <td>{formatSize(r.size)}</td>
              <td>{formatDate(r.updatedAt)}</td>
              {may.remove && (
                <td class="actions">
                  <button type="button" class="danger" aria-label={t('repos.delete.named', { name: r.name })} onClick={() => setDeleting(r)}>
                    {t('confirm.delete')}
                  </button>
                </td>
              )}
            </tr>
          );
        }}
      />
      <DeleteRepositoryDialog
        repository={deleting}
        onClose={() => setDeleting(undefined)}
        onDone={(deleted) => {
          setNotice(t('repos.delete.done', { name: deleted }));
          reload();
        }}
      />
    </>
  );
}
