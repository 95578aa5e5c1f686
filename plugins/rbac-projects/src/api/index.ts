import type { ManagementApi } from '@wharf/sdk';
import type { ApiDeps } from './common.js';
import { registerMemberOperations } from './members.js';
import { registerProjectOperations } from './projects.js';
import { registerRobotOperations } from './robots.js';
import { registerUserGroupOperations } from './usergroups.js';

/** Every `/api/v1` operation of the projects plugin. */
export function registerProjectsApi(api: ManagementApi, deps: ApiDeps): void {
  registerProjectOperations(api, deps);
  registerMemberOperations(api, deps);
  registerUserGroupOperations(api, deps);
  registerRobotOperations(api, deps);
}
