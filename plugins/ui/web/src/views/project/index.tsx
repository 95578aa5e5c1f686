import type { ComponentChildren } from 'preact';
import { api } from '../../api/client.js';
import { Loading } from '../../components/states.js';
import { useLoad } from '../../components/load.js';
import { ExtensionPanels, ExtensionView, extensionKey, extensionLabel, offered, useExtensions, useExtensionsLoaded, type ProjectRole } from '../../extensions.js';
import { t } from '../../i18n/index.js';
import { useLocation } from '../../router.js';
import { useSession } from '../../session-context.js';
import { ProjectSummary } from './summary.js';
import { PROJECT_TABS } from './tabs.js';

interface ShownTab {
  readonly id: string;
  readonly label: string;
  readonly render: () => ComponentChildren;
}

/** A project's page: breadcrumb, name, the tabs the user is offered, and the current tab. */
export function ProjectView({ project }: { project: string }) {
  const loc = useLocation();
  const { user } = useSession();
  // The user's role decides which tabs are offered; the API checks every call anyway.
  const [roleLoad] = useLoad(`role|${project}`, async () => {
    const { data } = await api.GET('/projects/{project_name}', { params: { path: { project_name: project } } });
    return (data?.currentUserRole ?? null) as ProjectRole;
  });
  const role = roleLoad.state === 'done' ? roleLoad.value : undefined;
  const contributed = useExtensions('project-tab');
  const extensionsLoaded = useExtensionsLoaded();
  const tabs: ShownTab[] = [
    ...PROJECT_TABS.filter((tab) => tab.visible(user, role)).map((tab) => ({ id: tab.id, label: t(tab.label), render: () => tab.render(project, role) })),
    ...contributed
      .filter((e) => offered(e, user, role))
      .map((e) => ({
        id: extensionKey(e),
        label: extensionLabel(e),
        render: () => <ExtensionView key={extensionKey(e)} extension={e} user={user} project={project} {...(role === undefined ? {} : { role })} />,
      })),
  ];
  const wanted = loc.query.get('tab');
  const current = tabs.find((tab) => tab.id === wanted) ?? tabs[0];
  // A link to a tab that depends on the role or on plugins waits for them rather than showing another.
  const waiting = wanted !== null && current?.id !== wanted && (role === undefined || !extensionsLoaded) && roleLoad.state !== 'error';
  const base = `/projects/${encodeURIComponent(project)}`;
  return (
    <section aria-labelledby="project-title">
      <nav aria-label={t('project.breadcrumb')} class="crumbs">
        <a href="/projects">{t('nav.projects')}</a> / <span aria-current="page">{project}</span>
      </nav>
      <h1 id="project-title">{project}</h1>
      <ProjectSummary project={project} />
      <ExtensionPanels user={user} project={project} {...(role === undefined ? {} : { role })} />
      {tabs.length > 1 && (
        <nav aria-label={t('project.tabs')} class="tabs">
          <ul>
            {tabs.map((tab, i) => (
              // Switching tab drops the other tab's list state (page, filters).
              <li key={tab.id}>
                <a href={i === 0 ? base : `${base}?tab=${encodeURIComponent(tab.id)}`} aria-current={tab === current && !waiting ? 'page' : undefined}>
                  {tab.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {waiting ? <Loading /> : current?.render()}
    </section>
  );
}
