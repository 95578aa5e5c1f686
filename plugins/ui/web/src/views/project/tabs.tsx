import type { ComponentChildren } from 'preact';
import type { SessionUser } from '../../api/session.js';
import type { ProjectRole } from '../../extensions.js';
import type { MessageKey } from '../../i18n/index.js';
import { mayListMembersAndRobots } from './access.js';
import { ProjectMembers } from './members.js';
import { ProjectRepositories } from './repositories.js';
import { ProjectRobots } from './robots.js';
import { ProjectAuditLog } from './audit-log.js';
import { ProjectImmutability } from './immutability.js';
import { ProjectQuota } from './quota.js';
import { ProjectRetention } from './retention.js';

/**
 * The tabs of a project's page, as data: each screen about one project (members, robots, audit
 * log, webhooks, quota, rules...) is a row here and a view in views/project/. The tab is in the
 * URL (`?tab=<id>`); the first visible tab is the default. Tabs plugins contribute (ADR 0039)
 * follow these, as `?tab=<plugin>.<id>`.
 */
export interface ProjectTab {
  readonly id: string;
  readonly label: MessageKey;
  /**
   * Whether the user is offered the tab at all (the API decides what they may do in it). `role`
   * is the user's role in the project (`null`: not a member), `undefined` while it loads.
   */
  readonly visible: (user: SessionUser, role?: ProjectRole) => boolean;
  readonly render: (project: string, role?: ProjectRole) => ComponentChildren;
}

/** Project admins and maintainers (and system administrators): who manages a project's rules and reads its log. */
const managers = (user: SessionUser, role?: ProjectRole) => user.admin || role === 'projectAdmin' || role === 'maintainer';

export const PROJECT_TABS: readonly ProjectTab[] = [
  { id: 'repositories', label: 'project.repositories', visible: () => true, render: (project) => <ProjectRepositories project={project} /> },
  { id: 'members', label: 'project.members', visible: mayListMembersAndRobots, render: (project) => <ProjectMembers project={project} /> },
  { id: 'robots', label: 'project.robots', visible: mayListMembersAndRobots, render: (project) => <ProjectRobots project={project} /> },
  { id: 'audit-log', label: 'project.auditLog', visible: managers, render: (project) => <ProjectAuditLog project={project} /> },
  { id: 'quota', label: 'project.quota', visible: () => true, render: (project) => <ProjectQuota project={project} /> },
  { id: 'immutability', label: 'project.immutability', visible: managers, render: (project) => <ProjectImmutability project={project} /> },
  { id: 'retention', label: 'project.retention', visible: managers, render: (project) => <ProjectRetention project={project} /> },
];
