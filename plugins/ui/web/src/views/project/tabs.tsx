import type { ComponentChildren } from 'preact';
import type { SessionUser } from '../../api/session.js';
import type { MessageKey } from '../../i18n/index.js';
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
  /** Whether the user is offered the tab at all (the API decides what they may do in it). */
  readonly visible: (user: SessionUser) => boolean;
  readonly render: (project: string) => ComponentChildren;
}

export const PROJECT_TABS: readonly ProjectTab[] = [
  { id: 'repositories', label: 'project.repositories', visible: () => true, render: (project) => <ProjectRepositories project={project} /> },
  { id: 'members', label: 'project.members', visible: () => true, render: (project) => <ProjectMembers project={project} /> },
  { id: 'robots', label: 'project.robots', visible: () => true, render: (project) => <ProjectRobots project={project} /> },
];
