import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '@wharf/sdk';
import { acceptedManifestTypes, negotiate } from './content-negotiation.js';
import { MediaTypes } from './media-types.js';

const index = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  manifests: [
    { mediaType: MediaTypes.dockerManifest, digest: `sha256:${'a'.repeat(64)}`, size: 1, platform: { os: 'linux', architecture: 'arm64' } },
    { mediaType: MediaTypes.dockerManifest, digest: `sha256:${'b'.repeat(64)}`, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
  ],
}));

describe('manifest content negotiation', () => {
  it('does not restrict without Accept, with wildcards or without any manifest type', () => {
    assert.equal(acceptedManifestTypes(undefined), undefined);
    assert.equal(acceptedManifestTypes('*/*'), undefined);
    assert.equal(acceptedManifestTypes(`${MediaTypes.ociManifest}, */*;q=0.1`), undefined);
    assert.equal(acceptedManifestTypes('application/json'), undefined);
  });

  it('serves what the client accepts', () => {
    const accepted = acceptedManifestTypes(`${MediaTypes.ociIndex}, ${MediaTypes.ociManifest}`);
    assert.deepEqual(negotiate(MediaTypes.ociIndex, index, accepted), { kind: 'serve' });
    assert.deepEqual(negotiate('application/vnd.example+json', index, accepted), { kind: 'serve' });
  });

  it('gives an index-blind client the linux/amd64 child it can read', () => {
    const accepted = acceptedManifestTypes(MediaTypes.dockerManifest);
    assert.deepEqual(negotiate(MediaTypes.dockerManifestList, index, accepted), { kind: 'child', digest: `sha256:${'b'.repeat(64)}` });
  });

  it('refuses OCI content to a client that cannot read it', () => {
    const accepted = acceptedManifestTypes(MediaTypes.dockerManifest);
    const unknown = (e: unknown) => e instanceof RegistryError && e.code === 'MANIFEST_UNKNOWN';
    assert.throws(() => negotiate(MediaTypes.ociManifest, index, accepted), unknown);
    assert.throws(() => negotiate(MediaTypes.ociIndex, Buffer.from('{"manifests":[]}'), accepted), unknown);
  });
});
