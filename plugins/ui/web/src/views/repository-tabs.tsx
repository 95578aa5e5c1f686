import { ExtensionView, extensionKey, extensionLabel, offered, useExtensions, type ProjectRole } from '../extensions.js';
import { t } from '../i18n/index.js';
import { useLoad } from '../components/load.js';
import { api } from '../api/client.js';
import { useLocation } from '../router.js';
import { useSession } from '../session-context.js';
import { RepositoryView } from './repository.js';

/**
 * A repository's page with the tabs plugins contribute to it (ADR 0039): without any, the page
 * is the repository view as it is; with some, a tab bar offers "Artifacts" and theirs
 * (`?tab=<plugin>.<id>`).
 */
export function RepositoryPage({ project, repository }: { project: string; repository: string }) {
  const loc = useLocation();
  const { user } = useSession();
  const contributed = useExtensions('repository-tab');
  const [roleLoad] = useLoad(`role|${project}|${contributed.length}`, async () => {
    if (contributed.length === 0) return null;
    const { data } = await api.GET('/projects/{project_name}', { params: { path: { project_name: project } } });
    return (data?.currentUserRole ?? null) as ProjectRole;
  });
  const role = roleLoad.state === 'done' ? roleLoad.value : undefined;
  const tabs = contributed.filter((e) => offered(e, user, role));
  if (tabs.length === 0) return <RepositoryView project={project} repository={repository} />;
  const current = tabs.find((e) => extensionKey(e) === loc.query.get('tab'));
  const base = `/projects/${encodeURIComponent(project)}/repositories/${repository.split('/').map(encodeURIComponent).join('/')}`;
  const nav = (
    <nav aria-label={t('repo.tabs')} class="tabs">
      <ul>
        <li>
          <a href={base} aria-current={current ? undefined : 'page'}>
            {t('repo.artifactsTab')}
          </a>
        </li>
        {tabs.map((e) => (
          <li key={extensionKey(e)}>
            <a href={`${base}?tab=${encodeURIComponent(extensionKey(e))}`} aria-current={e === current ? 'page' : undefined}>
              {extensionLabel(e)}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
  if (!current) {
    return (
      <>
        {nav}
        <RepositoryView project={project} repository={repository} />
      </>
    );
  }
  return (
    <section aria-labelledby="repo-title">
      {nav}
      <nav aria-label={t('project.breadcrumb')} class="crumbs">
        <a href="/projects">{t('nav.projects')}</a> / <a href={`/projects/${encodeURIComponent(project)}`}>{project}</a> / <span aria-current="page">{repository}</span>
      </nav>
      <h1 id="repo-title">
        {project}/{repository}
      </h1>
      <ExtensionView extension={current} user={user} project={project} repository={`${project}/${repository}`} {...(role === undefined ? {} : { role })} />
    </section>
  );
}
