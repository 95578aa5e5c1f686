import type { ComponentChildren } from 'preact';
import type { SessionUser } from './api/session.js';
import type { MessageKey } from './i18n/index.js';
import { AccountView } from './views/account.js';
import { ADMIN_ROUTES } from './views/admin/index.js';
import { ProjectView } from './views/project/index.js';
import { ProjectsView } from './views/projects.js';
import { PluginPage } from './views/plugin-page.js';
import { RepositoryPage } from './views/repository-tabs.js';
import { SearchView } from './views/search/index.js';

/**
 * The screens, as data. A route matches a path and renders a view from its parameters; a nav
 * item is a link in the side navigation, shown to the users `visible` admits. Later screens
 * (members, robots, administration) are rows here; pages plugins contribute at runtime are
 * listed by the shell from the extensions list and rendered by the /plugins route.
 */

export interface Route {
  readonly pattern: RegExp;
  readonly render: (params: readonly string[]) => ComponentChildren;
}

export interface NavItem {
  readonly path: string;
  readonly label: MessageKey;
  readonly visible: (user: SessionUser) => boolean;
}

const segment = '([^/]+)';
const dec = (s: string | undefined) => decodeURIComponent(s ?? '');

export const ROUTES: readonly Route[] = [
  { pattern: /^\/account\/?$/, render: () => <AccountView /> },
  { pattern: /^\/(?:projects\/?)?$/, render: () => <ProjectsView /> },
  { pattern: new RegExp(`^/projects/${segment}/?$`), render: ([p]) => <ProjectView project={dec(p)} /> },
  { pattern: /^\/search\/?$/, render: () => <SearchView /> },
  {
    // A repository name may hold slashes (team/app/web): everything after repositories/.
    pattern: new RegExp(`^/projects/${segment}/repositories/(.+?)/?$`),
    render: ([p, r]) => (
      <RepositoryPage
        project={dec(p)}
        repository={(r ?? '')
          .split('/')
          .map((s) => decodeURIComponent(s))
          .join('/')}
      />
    ),
  },
  // Administration (system administrators): users, groups, registries, replication, audit, GC, system.
  ...ADMIN_ROUTES,
  // A page a plugin adds to the navigation (ADR 0039).
  { pattern: new RegExp(`^/plugins/${segment}/${segment}/?$`), render: ([plugin, id]) => <PluginPage plugin={dec(plugin)} id={dec(id)} /> },
];

export const NAV_ITEMS: readonly NavItem[] = [
  { path: '/projects', label: 'nav.projects', visible: () => true },
  // The Administration group: one entry, its screens are tabs inside (views/admin/common.tsx).
  { path: '/admin', label: 'nav.admin', visible: (user) => user.admin },
];

/** The view for a path, or `undefined` (not found). */
export function match(path: string): ComponentChildren | undefined {
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (m) return route.render(m.slice(1));
  }
  return undefined;
}
