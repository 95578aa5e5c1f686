import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '@wharf/sdk';
import { parseManifest } from './manifest-parser.js';
import { MediaTypes } from './media-types.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const desc = (c: string, mediaType = 'application/octet-stream') => ({ mediaType, digest: d(c), size: 1 });
const body = (doc: unknown) => Buffer.from(JSON.stringify(doc));
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RegistryError);
    return err.code;
  }
  assert.fail('expected a RegistryError');
};

describe('parseManifest', () => {
  it('extracts config and layers of an image manifest, and its config type as artifact type', () => {
    const parsed = parseManifest(body({ schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: desc('a', 'x/config'), layers: [desc('b'), desc('c')] }), MediaTypes.ociManifest);
    assert.deepEqual(parsed.blobRefs, [d('a'), d('b'), d('c')]);
    assert.deepEqual(parsed.manifestRefs, []);
    assert.equal(parsed.artifactType, 'x/config');
  });

  it('extracts children of an index and its subject', () => {
    const parsed = parseManifest(body({ schemaVersion: 2, manifests: [desc('a'), desc('b')], subject: desc('c') }), MediaTypes.ociIndex);
    assert.deepEqual(parsed.manifestRefs, [d('a'), d('b')]);
    assert.equal(parsed.subject, d('c'));
    assert.equal(parsed.mediaType, MediaTypes.ociIndex);
  });

  it('takes the media type from the body when no Content-Type is sent', () => {
    assert.equal(parseManifest(body({ schemaVersion: 2, mediaType: MediaTypes.dockerManifestList, manifests: [] }), undefined).mediaType, MediaTypes.dockerManifestList);
  });

  it('records the blobs of an OCI artifact manifest, with their sizes', () => {
    const parsed = parseManifest(body({ mediaType: MediaTypes.ociArtifactManifest, blobs: [desc('a')], config: desc('b') }), MediaTypes.ociArtifactManifest);
    assert.deepEqual(parsed.blobRefs, [d('b'), d('a')]);
    assert.deepEqual(parsed.sizes, [{ digest: d('b'), size: 1 }, { digest: d('a'), size: 1 }]);
  });

  it('refuses media types that are not manifest types, and Content-Types the body contradicts', () => {
    const image = { schemaVersion: 2, config: desc('a'), layers: [desc('b')] };
    assert.equal(code(() => parseManifest(body({ blobs: [desc('a')] }), 'application/vnd.example+json')), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body(image), 'text/plain')), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ ...image, mediaType: 'text/plain' }), undefined)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ ...image, mediaType: MediaTypes.ociManifest }), MediaTypes.dockerManifest)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body(image), MediaTypes.dockerManifest)), 'MANIFEST_INVALID');
    assert.equal(parseManifest(body(image), `${MediaTypes.ociManifest}; charset=utf-8`).mediaType, MediaTypes.ociManifest);
  });

  it('refuses ambiguous documents: an image with manifests, an index with config or layers', () => {
    const both = { schemaVersion: 2, config: desc('a'), layers: [desc('b')], manifests: [desc('c')] };
    assert.equal(code(() => parseManifest(body(both), MediaTypes.ociManifest)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body(both), MediaTypes.ociIndex)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 2, manifests: [], layers: [] }), MediaTypes.ociIndex)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 2, manifests: [], config: desc('a') }), MediaTypes.dockerManifestList)), 'MANIFEST_INVALID');
  });

  it('skips foreign layers that point elsewhere', () => {
    const foreign = { ...desc('f', 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'), urls: ['https://example.com/l'] };
    const parsed = parseManifest(body({ schemaVersion: 2, mediaType: MediaTypes.dockerManifest, config: desc('a'), layers: [foreign, desc('b')] }), MediaTypes.dockerManifest);
    assert.deepEqual(parsed.blobRefs, [d('a'), d('b')]);
  });

  it('refuses what is not a valid manifest', () => {
    assert.equal(code(() => parseManifest(Buffer.from('nope'), MediaTypes.ociManifest)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body([1]), MediaTypes.ociManifest)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 1, config: desc('a'), layers: [] }), MediaTypes.ociManifest)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 2, config: desc('a') }), MediaTypes.ociManifest)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 2, config: { digest: 'sha256:zz', size: 1 }, layers: [] }), MediaTypes.ociManifest)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 2, config: { digest: d('a'), size: -1 }, layers: [] }), MediaTypes.ociManifest)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] }), MediaTypes.ociManifest)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 1 }), MediaTypes.dockerSchema1Signed)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 2, manifests: [] }), undefined)), 'MANIFEST_INVALID');
    assert.equal(code(() => parseManifest(body({ schemaVersion: 2, manifests: [], annotations: { a: 1 } }), MediaTypes.ociIndex)), 'MANIFEST_INVALID');
  });
});
