import type { Route } from '../../routes.js';
import { AdminAuditView } from './audit.js';
import { AdminExecutionView, AdminExecutionsView } from './executions.js';
import { AdminGcView } from './gc.js';
import { AdminGroupsView } from './groups.js';
import { AdminRegistriesView } from './registries.js';
import { AdminReplicationView } from './replication.js';
import { AdminSystemView } from './system.js';
import { AdminUsersView } from './users.js';

/**
 * The administration screens' routes (rows of ROUTES in routes.tsx). They are for system
 * administrators: the navigation offers them to nobody else, and someone else who types the URL
 * gets the API's 403 as a "not allowed" state.
 */
export const ADMIN_ROUTES: readonly Route[] = [
  { pattern: /^\/admin(?:\/users)?\/?$/, render: () => <AdminUsersView /> },
  { pattern: /^\/admin\/groups\/?$/, render: () => <AdminGroupsView /> },
  { pattern: /^\/admin\/registries\/?$/, render: () => <AdminRegistriesView /> },
  { pattern: /^\/admin\/replication\/?$/, render: () => <AdminReplicationView /> },
  { pattern: /^\/admin\/replication\/executions\/?$/, render: () => <AdminExecutionsView /> },
  { pattern: /^\/admin\/replication\/executions\/([1-9][0-9]{0,15})\/?$/, render: ([id]) => <AdminExecutionView id={Number(id)} /> },
  { pattern: /^\/admin\/audit\/?$/, render: () => <AdminAuditView /> },
  { pattern: /^\/admin\/gc\/?$/, render: () => <AdminGcView /> },
  { pattern: /^\/admin\/system\/?$/, render: () => <AdminSystemView /> },
];
