import './client/node-dispatcher-first.js';
import { definePlugin } from '@wharf/sdk';
import { ociConfigSchema } from './config.js';
import { OciTarget } from './target.js';
import { VERSION } from './version.js';

/**
 * `replication: { oci: {...} }`: the replication target adapter for any registry speaking the
 * OCI Distribution API. The replication engine asks the `replication.target` hook map for
 * `oci` endpoints; this plugin answers with an {@link OciTarget}.
 */
export const replicationOciPlugin = definePlugin({
  // The id is the config key: the loader resolves `replication.oci` to @wharf/plugin-replication-oci.
  id: 'oci',
  kind: 'replication',
  version: VERSION,
  kernel: '^0.1.0',
  description: 'Replicates to and from registries speaking the OCI Distribution API (Wharf, distribution, Harbor, zot, Docker Hub)',
  configSchema: ociConfigSchema,
  register(ctx) {
    const config = ctx.config;
    const logger = ctx.logger;
    // No I/O here: a target connects on its first request.
    ctx.hooks.replication.target.for('oci').tap(ctx.id, (endpoint) => new OciTarget(endpoint, { ...config, logger }));
  },
});

export default replicationOciPlugin;
export { OciTarget, type OciTargetOptions } from './target.js';
export { ociConfigSchema, type OciConfig } from './config.js';
export { VERSION as OCI_PLUGIN_VERSION } from './version.js';
