import { t } from '../../i18n/index.js';
import { useLocation } from '../../router.js';
import { useLoad } from '../../components/load.js';
import { useSession } from '../../session-context.js';
import { loadProject } from './access.js';
import { ProjectSummary } from './summary.js';
import { PROJECT_TABS } from './tabs.js';

/** A project's page: breadcrumb, name, the tabs the user is offered, and the current tab. */
export function ProjectView({ project }: { project: string }) {
  const loc = useLocation();
  const { user } = useSession();
  // The caller's role in the project, for the tabs that depend on it (unknown while loading).
  const [info] = useLoad(project, () => loadProject(project));
  const role = info.state === 'done' ? info.value.currentUserRole : undefined;
  const tabs = PROJECT_TABS.filter((tab) => tab.visible(user, role));
  const current = tabs.find((tab) => tab.id === loc.query.get('tab')) ?? tabs[0];
  const base = `/projects/${encodeURIComponent(project)}`;
  return (
    <section aria-labelledby="project-title">
      <nav aria-label={t('project.breadcrumb')} class="crumbs">
        <a href="/projects">{t('nav.projects')}</a> / <span aria-current="page">{project}</span>
      </nav>
      <h1 id="project-title">{project}</h1>
      <ProjectSummary project={project} />
      {tabs.length > 1 && (
        <nav aria-label={t('project.tabs')} class="tabs">
          <ul>
            {tabs.map((tab, i) => (
              // Switching tab drops the other tab's list state (page, filters).
              <li key={tab.id}>
                <a href={i === 0 ? base : `${base}?tab=${tab.id}`} aria-current={tab === current ? 'page' : undefined}>
                  {t(tab.label)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {current?.render(project)}
    </section>
  );
}
