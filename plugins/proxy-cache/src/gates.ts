import { RegistryError, type ManifestPutContext, type UploadStartContext } from '@wharf/sdk';
import { isProxyPrincipal, splitRepository } from './proxy.js';
import type { ProxySettingsStore } from './store.js';

/**
 * Pushes into a proxy-cache project are refused (its content is the upstream's): at the start
 * of a blob upload, before any byte is sent, and at a manifest PUT (content written through
 * `coreServices.content` by another plugin, e.g. a replication pull, meets the same gate).
 * Only the proxy cache's own writes pass. Deletes are not gated here: an administrator may
 * clean a cache, and RBAC decides who may.
 */
export function pushGates(settings: ProxySettingsStore) {
  const refuse = async (repository: string): Promise<void> => {
    const where = splitRepository(repository);
    if (!where || !(await settings.get(where.project))) return;
    throw new RegistryError('DENIED', `project ${where.project} is a proxy cache: its content comes from its upstream registries and cannot be pushed`, {
      detail: { project: where.project },
    });
  };
  return {
    async beforeUploadStart(context: UploadStartContext): Promise<void> {
      await refuse(context.repository);
    },
    async beforeManifestPut(context: ManifestPutContext): Promise<void> {
      if (isProxyPrincipal(context.principal)) return;
      await refuse(context.repository);
    },
  };
}
