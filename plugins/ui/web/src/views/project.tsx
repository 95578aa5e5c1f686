import { api, errorMessage, totalOf } from '../api/client.js';
import { ApiFailure, useLoad } from '../components/load.js';
import { Pager } from '../components/pager.js';
import { Empty, Loaded } from '../components/states.js';
import { formatDate, formatNumber, formatSize, t } from '../i18n/index.js';
import { intParam, navigate, useLocation, withQuery } from '../router.js';
import { registryHost } from './registry-host.js';

const PAGE_SIZE = 20;

/** A project's repositories (the repositories plugin's API), searched and paged on the server. */
export function ProjectView({ project }: { project: string }) {
  const loc = useLocation();
  const page = intParam(loc, 'page');
  const name = loc.query.get('name') ?? '';
  const [load, reload] = useLoad(`${project}|${page}|${name}`, async () => {
    const q = name ? `name=~${encodeURIComponent(name)}` : undefined;
    const { data, error, response } = await api.GET('/projects/{project_name}/repositories', {
      params: { path: { project_name: project }, query: { page, page_size: PAGE_SIZE, ...(q ? { q } : {}) } },
    });
    if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
    return { items: data, total: totalOf(response) };
  });
  return (
    <section aria-labelledby="project-title">
      <nav aria-label={t('project.breadcrumb')} class="crumbs">
        <a href="/projects">{t('nav.projects')}</a> / <span aria-current="page">{project}</span>
      </nav>
      <h1 id="project-title">{project}</h1>
      <h2>{t('project.repositories')}</h2>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>{t('repos.search')}</span>
          <input
            type="search"
            value={name}
            placeholder={t('repos.searchPlaceholder')}
            onInput={(e) => navigate(withQuery(loc, { name: e.currentTarget.value, page: undefined }), { replace: true })}
          />
        </label>
      </form>
      <Loaded
        load={load}
        retry={reload}
        done={({ items, total }) =>
          items.length === 0 ? (
            <Empty>{name ? t('repos.emptySearch', { q: name }) : t('repos.empty', { ref: `${registryHost()}/${project}/<name>:<tag>` })}</Empty>
          ) : (
            <>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('repos.col.name')}</th>
                    <th scope="col">{t('repos.col.tags')}</th>
                    <th scope="col">{t('repos.col.artifacts')}</th>
                    <th scope="col">{t('repos.col.size')}</th>
                    <th scope="col">{t('repos.col.updated')}</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((r) => {
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
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <Pager page={page} pageSize={PAGE_SIZE} total={total} />
            </>
          )
        }
      />
    </section>
  );
}
