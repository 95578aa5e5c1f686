import assert from 'node:assert/strict';
import { sha256 } from './hash.js';
import { describeHttp, pushBlob, putManifest, type Target } from './oci-http.js';
import { MT, type Descriptor } from '../fixtures/oci-layout.js';

/**
 * Small images and OCI 1.1 artifacts pushed with fetch, for flows no installed client covers
 * (oras is absent): an image by tag, and an artifact with a `subject`, by digest as oras does.
 */

export const EMPTY_CONFIG = { mediaType: MT.empty, digest: sha256('{}'), size: 2 };

/** A one-layer image whose content depends on `seed`, pushed by tag. */
export async function pushSmallImage(target: Target, repo: string, tag: string, seed: string = repo): Promise<Descriptor> {
  const layer = await pushBlob(target, repo, `layer of ${seed}\n`);
  const config = await pushBlob(target, repo, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MT.manifest,
    config: { mediaType: MT.config, ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  });
  const put = await putManifest(target, repo, tag, body, MT.manifest);
  assert.equal(put.status, 201, describeHttp(`PUT image ${repo}:${tag}`, put));
  return { mediaType: MT.manifest, digest: sha256(body), size: Buffer.byteLength(body) };
}

/** An artifact of `artifactType` whose subject is `subject`, pushed untagged by digest. */
export async function pushReferrer(target: Target, repo: string, subject: Descriptor, artifactType: string, payload: string): Promise<Descriptor> {
  await pushBlob(target, repo, '{}');
  const blob = await pushBlob(target, repo, payload);
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MT.manifest,
    artifactType,
    config: EMPTY_CONFIG,
    layers: [{ mediaType: 'text/plain', ...blob }],
    subject,
    annotations: { 'org.example.kind': artifactType },
  });
  const digest = sha256(body);
  const put = await putManifest(target, repo, digest, body, MT.manifest);
  const why = describeHttp(`PUT artifact ${artifactType}`, put);
  assert.equal(put.status, 201, why);
  assert.equal(put.headers.get('oci-subject'), subject.digest, `OCI-Subject header missing or wrong\n${why}`);
  assert.equal(put.headers.get('docker-content-digest'), digest, why);
  return { mediaType: MT.manifest, digest, size: Buffer.byteLength(body), artifactType };
}
