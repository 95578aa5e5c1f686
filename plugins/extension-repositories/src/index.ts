import { coreServices, definePlugin, projectServices } from '@wharf/sdk';
import { registerRepositoriesApi } from './api/index.js';
import { repositoriesCommands } from './cli.js';
import { repositoriesConfigSchema } from './config.js';
import { VERSION } from './version.js';

/**
 * `extensions: { repositories: {} }` (loaded by default): repository and artifact management
 * over the kernel's content services. `/api/v1/projects/{p}/repositories[...]` lists, reads and
 * deletes repositories and artifacts, adds and removes tags and copies artifacts between
 * repositories; `wharf repo` and `wharf artifact` do the same for scripts. Access is decided by
 * the `rbac.authorize` hook on the project's `repository`, `artifact` and `tag` resources (the
 * projects plugin answers with Harbor's roles); writes go through the policy gates and record
 * the registry's durable events.
 */
export const repositoriesPlugin = definePlugin({
  id: 'repositories',
  kind: 'extension',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Repository and artifact management: list, inspect, delete, tag, copy',
  configSchema: repositoriesConfigSchema,
  cli: repositoriesCommands,
  register(ctx) {
    ctx.registerInit({
      deps: { artifacts: coreServices.artifacts, content: coreServices.content },
      // The projects plugin says who sees which project (the registry-wide search); without it only administrators find content.
      optionalDeps: { projects: projectServices.directory },
      async init(services) {
        registerRepositoriesApi(ctx.api, services);
      },
    });
  },
});

export default repositoriesPlugin;
export { repositoriesConfigSchema, type RepositoriesConfig } from './config.js';
export { repositoriesCommands } from './cli.js';
export { copyArtifact, type CopyServices } from './copy.js';
export { isRepositoryName, parseArtifactAddress, parseReference, repositoryOf, type Reference } from './names.js';
export { ArtifactSchema, RepositorySchema, artifactView, repositoryView, type ArtifactView, type RepositoryView } from './views.js';
export { VERSION as REPOSITORIES_PLUGIN_VERSION } from './version.js';
