import { after, before } from 'node:test';
import { runReplicationTargetConformance } from '@wharf/sdk-testing';
import { OciTarget } from './index.js';
import { startDockerRegistry, type DockerRegistryHandle } from './test-support/docker-registry.js';

// The adapter against distribution 2.8 without auth: no referrers API (tag schema fallback),
// no tag deletion, credentials ignored.

let registry: DockerRegistryHandle;

before(async () => {
  registry = await startDockerRegistry();
});

after(async () => {
  await registry?.stop();
});

runReplicationTargetConformance({
  name: 'oci adapter → distribution 2.8 (open)',
  endpoint: () => ({ name: 'distribution', type: 'oci', url: registry.url }),
  open: (endpoint) => new OciTarget(endpoint),
  authenticates: false,
  referrers: 'tag-schema',
  deletesTags: false,
});
