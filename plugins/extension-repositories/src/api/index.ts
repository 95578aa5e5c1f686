import type { ManagementApi } from '@wharf/sdk';
import { registerArtifactOperations } from './artifacts.js';
import type { ApiDeps } from './common.js';
import { registerRepositoryOperations } from './repositories.js';

/** Every `/api/v1` operation of the repositories plugin. */
export function registerRepositoriesApi(api: ManagementApi, deps: ApiDeps): void {
  registerRepositoryOperations(api, deps);
  registerArtifactOperations(api, deps);
}
