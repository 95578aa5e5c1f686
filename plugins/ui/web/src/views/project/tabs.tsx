import type { ComponentChildren } from 'preact';
import type { SessionUser } from '../../api/session.js';
import type { MessageKey } from '../../i18n/index.js';
import { mayListMembersAndRobots } from './access.js';
import { ProjectMembers } from './members.js';
import { ProjectRepositories } from './repositories.js';
import { ProjectRobots } from './robots.js';

/**
 * The tabs of a project's page, as data: each screen about one project (members, robots, audit
 * log, webhooks, quota, rules...) is a row here and a view in views/project/. The tab is in the
 * URL (`?tab=<id>`); the first visible tab is the default.
 */
export interface ProjectTab {
  readonly id: string;
  readonly label: MessageKey;
  /**
   * Whether the user is offered the tab at all (the API decides what they may do in it). `role`
   * is the user's role in the project (`null`: none; `undefined`: not known yet).
   */
  readonly visible: (user: SessionUser, role: string | null | undefined) => boolean;
  readonly render: (project: string) => ComponentChildren;
}

export const PROJECT_TABS: readonly ProjectTab[] = [
  { id: 'repositories', label: 'project.repositories', visible: () => true, render: (project) => <ProjectRepositories project={project} /> },
  { id: 'members', label: 'project.members', visible: mayListMembersAndRobots, render: (project) => <ProjectMembers project={project} /> },
  { id: 'robots', label: 'project.robots', visible: mayListMembersAndRobots, render: (project) => <ProjectRobots project={project} /> },
];
