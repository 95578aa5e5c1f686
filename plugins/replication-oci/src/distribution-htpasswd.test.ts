import { after, before } from 'node:test';
import { runReplicationTargetConformance } from '@wharf/sdk-testing';
import { OciTarget } from './index.js';
import { startDockerRegistry, type DockerRegistryHandle } from './test-support/docker-registry.js';

// The adapter against distribution 2.8 with htpasswd: a `Basic` challenge, credentials sent on
// every request once it is known (streamed PATCH bodies included).

const user = { username: 'replicator', password: 'Replic4tor-pw' };
let registry: DockerRegistryHandle;

before(async () => {
  registry = await startDockerRegistry({ users: [user, { username: 'other', password: 'Other-pw-1' }] });
});

after(async () => {
  await registry?.stop();
});

runReplicationTargetConformance({
  name: 'oci adapter → distribution 2.8 (htpasswd, Basic)',
  endpoint: () => ({ name: 'distribution-basic', type: 'oci', url: registry.url, credentials: user }),
  open: (endpoint) => new OciTarget(endpoint),
  authenticates: true,
  referrers: 'tag-schema',
  deletesTags: false,
});
