import { api, errorMessage } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import type { SessionUser } from '../../api/session.js';
import { ApiFailure } from '../../components/load.js';

type Project = components['schemas']['Project'];

/** The project as the API shows it to the caller (its `currentUserRole` decides what the UI offers). */
export async function loadProject(project: string): Promise<Project> {
  const { data, error, response } = await api.GET('/projects/{project_name}', { params: { path: { project_name: project } } });
  if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
  return data;
}

/**
 * Whether the user may see the members and robots of the project: any role but Limited Guest,
 * and system administrators (a project's public visibility alone does not show them).
 */
export function mayListMembersAndRobots(user: SessionUser, role: string | null | undefined): boolean {
  return user.admin || role === undefined || (role !== null && role !== 'limitedGuest');
}

/**
 * Whether the user may add, change and remove members and robots: system administrators and
 * the project's admins (the roles matrix of rbac-projects; the API checks again).
 */
export function mayManageProject(user: SessionUser, role: string | null | undefined): boolean {
  return user.admin || role === 'projectAdmin';
}

/** A message above a list after an action; a function, so it follows a language switch. */
export interface ActionNotice {
  readonly text: () => string;
  readonly error?: boolean;
}
