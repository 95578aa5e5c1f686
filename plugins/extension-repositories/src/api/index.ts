import type { ManagementApi, ProjectDirectoryService } from '@wharf/sdk';
import { registerArtifactOperations } from './artifacts.js';
import type { ApiDeps } from './common.js';
import { registerRepositoryOperations } from './repositories.js';
import { registerSearchOperation } from './search.js';
import { registerTagOperations } from './tags.js';

/** Every `/api/v1` operation of the repositories plugin. */
export function registerRepositoriesApi(api: ManagementApi, deps: ApiDeps & { projects: ProjectDirectoryService | undefined }): void {
  registerRepositoryOperations(api, deps);
  registerArtifactOperations(api, deps);
  registerTagOperations(api, deps);
  registerSearchOperation(api, deps);
}
