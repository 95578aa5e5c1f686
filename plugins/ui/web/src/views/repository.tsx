import { useState } from 'preact/hooks';
import { api, errorMessage } from '../api/client.js';
import type { components } from '../api/schema.js';
import { ApiFailure, useLoad } from '../components/load.js';
import { Loaded } from '../components/states.js';
import { formatNumber, formatSize, t } from '../i18n/index.js';
import { navigate, useLocation } from '../router.js';
import { useSession } from '../session-context.js';
import { ArtifactsView } from './repository/artifacts.js';
import { abilities } from './repository/common.js';
import { DeleteRepositoryDialog } from './repository/dialogs.js';
import { TagsView } from './repository/tags.js';

type Repository = components['schemas']['Repository'];

/**
 * A repository's page: tags first (one row per tag, sorted on the server), or the artifact view
 * (`?view=artifacts`: tags grouped by digest, platforms, referrers under their subject). What the
 * user's role in the project allows decides which actions are offered.
 */
export function RepositoryView({ project, repository }: { project: string; repository: string }) {
  const loc = useLocation();
  const { user } = useSession();
  const view = loc.query.get('view') === 'artifacts' ? 'artifacts' : 'tags';
  const [deleting, setDeleting] = useState(false);
  // Counts refreshed after a change without reloading the page (the views keep their notices).
  const [fresh, setFresh] = useState<Repository | undefined>();
  const [summary, reloadSummary] = useLoad(`${project}|${repository}`, async () => {
    const [info, repo] = await Promise.all([
      api.GET('/projects/{project_name}', { params: { path: { project_name: project } } }),
      api.GET('/projects/{project_name}/repositories/{repository_name}', { params: { path: { project_name: project, repository_name: repository } } }),
    ]);
    if (info.error || !info.data) throw new ApiFailure(errorMessage(info.error), info.response.status);
    if (repo.error || !repo.data) throw new ApiFailure(errorMessage(repo.error), repo.response.status);
    setFresh(undefined);
    return { role: info.data.currentUserRole, repo: repo.data };
  });
  const refresh = async () => {
    const { data } = await api.GET('/projects/{project_name}/repositories/{repository_name}', { params: { path: { project_name: project, repository_name: repository } } });
    if (data) setFresh(data);
  };
  const base = `/projects/${encodeURIComponent(project)}/repositories/${repository.split('/').map(encodeURIComponent).join('/')}`;
  const ref = { project, repository };
  return (
    <section aria-labelledby="repo-title">
      <nav aria-label={t('project.breadcrumb')} class="crumbs">
        <a href="/projects">{t('nav.projects')}</a> / <a href={`/projects/${encodeURIComponent(project)}`}>{project}</a> / <span aria-current="page">{repository}</span>
      </nav>
      <Loaded
        load={summary}
        retry={reloadSummary}
        done={({ role, repo: loaded }) => {
          const repo = fresh ?? loaded;
          const may = abilities(user, role);
          return (
            <>
              <div class="title-row">
                <h1 id="repo-title">
                  {project}/{repository}
                </h1>
                {may.remove && (
                  <button type="button" class="danger" onClick={() => setDeleting(true)}>
                    {t('repos.delete.button')}
                  </button>
                )}
              </div>
              <p class="meta">{t('repo.summary', { tags: formatNumber(repo.tagCount), artifacts: formatNumber(repo.artifactCount), size: formatSize(repo.size) })}</p>
              <nav aria-label={t('repo.views')} class="tabs">
                <ul>
                  <li>
                    <a href={base} aria-current={view === 'tags' ? 'page' : undefined}>
                      {t('repo.tags')}
                    </a>
                  </li>
                  <li>
                    <a href={`${base}?view=artifacts`} aria-current={view === 'artifacts' ? 'page' : undefined}>
                      {t('repo.artifacts')}
                    </a>
                  </li>
                </ul>
              </nav>
              {view === 'tags' ? <TagsView repo={ref} may={may} onChanged={() => void refresh()} /> : <ArtifactsView repo={ref} may={may} onChanged={() => void refresh()} />}
              <DeleteRepositoryDialog repository={deleting ? repo : undefined} onClose={() => setDeleting(false)} onDone={() => navigate(`/projects/${encodeURIComponent(project)}`)} />
            </>
          );
        }}
      />
    </section>
  );
}
