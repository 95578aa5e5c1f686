import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useE2eSandbox } from '../helpers/sandbox.js';
import { registryTest } from '../helpers/e2e.js';
import { hashLayoutBlobs, sha256, sha256File } from '../helpers/hash.js';
import { describeRun, stdoutJson } from '../helpers/run.js';
import { uniqueRepo } from '../helpers/temp.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, OciLayout } from '../fixtures/oci-layout.js';

// skopeo copy of a single-platform image in OCI and Docker schema 2 format, and back again.

let layout: OciLayout;
let image: BuiltImage;
const sandbox = useE2eSandbox('skopeo-copy', async () => {
  ({ layout, image } = await singleImageLayout(join(sandbox.work, 'src')));
});
const srv = sandbox.srv;

async function readDigestFile(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).trim();
}

/** Every file of a `dir:` copy except manifest.json/version, with its real sha256. */
async function dirBlobs(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(dir)) {
    if (name === 'manifest.json' || name === 'version') continue;
    out.set(`sha256:${name}`, await sha256File(join(dir, name)));
  }
  return out;
}

const sourceBlobs = (): string[] => [image.config.digest, ...image.layers.map((l) => l.digest)].sort();

registryTest('skopeo copy (OCI format) round-trips digests and blobs byte for byte', srv, async () => {
  const repo = uniqueRepo('skopeo-oci');
  const dest = `docker://${srv().host}/${repo}:v1`;
  const digestFile = join(sandbox.work, 'oci.digest');
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', '--digestfile', digestFile, layout.ref('v1'), dest]);
  const pushed = await readDigestFile(digestFile);
  assert.equal(pushed, image.manifest.digest, 'an OCI-to-OCI copy must not rewrite the manifest');

  const inspect = await sandbox.clients.skopeoOk(['inspect', '--tls-verify=false', dest]);
  assert.equal(stdoutJson<{ Digest: string }>(inspect).Digest, pushed, describeRun(inspect));
  const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', dest]);
  assert.equal(sha256(raw.stdout), pushed, `raw manifest bytes differ\n${describeRun(raw)}`);
  assert.equal(stdoutJson<{ mediaType: string }>(raw).mediaType, 'application/vnd.oci.image.manifest.v1+json');

  // Back into an OCI layout: same manifest digest, and every blob identical to the source.
  const back = join(sandbox.work, 'oci-back');
  await sandbox.clients.skopeoOk(['copy', '--src-tls-verify=false', dest, `oci:${back}:v1`]);
  const backIndex = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(backIndex.manifests[0]?.digest, pushed);
  const blobs = await hashLayoutBlobs(back);
  for (const [name, actual] of blobs) assert.equal(actual, name, `blob ${name} is corrupt`);
  assert.deepEqual([...blobs.keys()].sort(), [pushed, ...sourceBlobs()].sort());

  // And into a `dir:`: the same bytes under their digests.
  const backDir = join(sandbox.work, 'oci-back-dir');
  await sandbox.clients.skopeoOk(['copy', '--src-tls-verify=false', dest, `dir:${backDir}`]);
  assert.equal(await sha256File(join(backDir, 'manifest.json')), pushed);
  const files = await dirBlobs(backDir);
  for (const [name, actual] of files) assert.equal(actual, name, `blob ${name} is corrupt`);
  assert.deepEqual([...files.keys()].sort(), sourceBlobs());
});

registryTest('skopeo copy --format v2s2 stores a Docker schema 2 manifest with the same blobs', srv, async () => {
  const repo = uniqueRepo('skopeo-v2s2');
  const dest = `docker://${srv().host}/${repo}:v1`;
  const digestFile = join(sandbox.work, 'v2s2.digest');
  await sandbox.clients.skopeoOk(['copy', '--format', 'v2s2', '--dest-tls-verify=false', '--digestfile', digestFile, layout.ref('v1'), dest]);
  const pushed = await readDigestFile(digestFile);
  assert.match(pushed, /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(pushed, image.manifest.digest, 'conversion to v2s2 must produce a different manifest');

  const inspect = await sandbox.clients.skopeoOk(['inspect', '--tls-verify=false', dest]);
  assert.equal(stdoutJson<{ Digest: string }>(inspect).Digest, pushed, describeRun(inspect));
  const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', dest]);
  assert.equal(sha256(raw.stdout), pushed, `raw manifest bytes differ\n${describeRun(raw)}`);
  const manifest = stdoutJson<{ mediaType: string; config: { digest: string }; layers: { digest: string; mediaType: string }[] }>(raw);
  assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(manifest.config.digest, image.config.digest);
  assert.deepEqual(manifest.layers.map((l) => l.digest), image.layers.map((l) => l.digest));
  assert.equal(manifest.layers[0]?.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');

  const backDir = join(sandbox.work, 'v2s2-back-dir');
  await sandbox.clients.skopeoOk(['copy', '--src-tls-verify=false', dest, `dir:${backDir}`]);
  assert.equal(await sha256File(join(backDir, 'manifest.json')), pushed);
  const files = await dirBlobs(backDir);
  for (const [name, actual] of files) assert.equal(actual, name, `blob ${name} is corrupt`);
  assert.deepEqual([...files.keys()].sort(), sourceBlobs());

  // Copying the v2s2 image back into an OCI layout forces skopeo to re-read every blob.
  const back = join(sandbox.work, 'v2s2-back-oci');
  await sandbox.clients.skopeoOk(['copy', '--src-tls-verify=false', dest, `oci:${back}:v1`]);
  for (const [name, actual] of await hashLayoutBlobs(back)) assert.equal(actual, name, `blob ${name} is corrupt`);
});
