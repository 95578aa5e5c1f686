import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useE2eSandbox } from '../helpers/sandbox.js';
import { registryTest } from '../helpers/e2e.js';
import { hashLayoutBlobs, sha256 } from '../helpers/hash.js';
import { describeRun, stdoutJson } from '../helpers/run.js';
import { uniqueRepo } from '../helpers/temp.js';
import { multiPlatformLayout } from '../fixtures/images.js';
import type { BuiltImage, Descriptor, OciLayout } from '../fixtures/oci-layout.js';

// skopeo copy --all of a two-platform OCI index (amd64 + arm64), and back again.

let layout: OciLayout;
let index: Descriptor;
let children: BuiltImage[];
const sandbox = useE2eSandbox('skopeo-multi', async () => {
  ({ layout, index, children } = await multiPlatformLayout(join(sandbox.work, 'src')));
});
const srv = sandbox.srv;

interface IndexBody {
  mediaType: string;
  manifests: { digest: string; mediaType: string; platform?: { architecture: string; os: string } }[];
}

registryTest('skopeo copy --all pushes the index and both platforms unchanged', srv, async () => {
  const repo = uniqueRepo('skopeo-multi');
  const dest = `docker://${srv().host}/${repo}:multi`;
  const digestFile = join(sandbox.work, 'multi.digest');
  await sandbox.clients.skopeoOk(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', '--digestfile', digestFile,
    layout.ref('multi'), dest]);
  assert.equal((await readFile(digestFile, 'utf8')).trim(), index.digest);

  const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', dest]);
  assert.equal(sha256(raw.stdout), index.digest, `index bytes differ\n${describeRun(raw)}`);
  const body = stdoutJson<IndexBody>(raw);
  assert.equal(body.mediaType, 'application/vnd.oci.image.index.v1+json');
  assert.deepEqual(
    body.manifests.map((m) => [m.digest, m.platform?.architecture, m.platform?.os]),
    children.map((c) => [c.manifest.digest, c.manifest.platform?.architecture, 'linux']),
  );

  // Each child is fetchable by digest, byte for byte.
  for (const child of children) {
    const byDigest = `docker://${srv().host}/${repo}@${child.manifest.digest}`;
    const r = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', byDigest]);
    assert.equal(sha256(r.stdout), child.manifest.digest, describeRun(r));
  }

  // Platform selection goes through the index.
  const arm = await sandbox.clients.skopeoOk(['--override-arch', 'arm64', 'inspect', '--tls-verify=false', dest]);
  const armInfo = stdoutJson<{ Digest: string; Architecture: string; Layers: string[] }>(arm);
  assert.equal(armInfo.Architecture, 'arm64', describeRun(arm));
  // skopeo 1.9 reports the digest of what the tag points at (the index), and the child's layers.
  assert.equal(armInfo.Digest, index.digest, describeRun(arm));
  assert.deepEqual(armInfo.Layers, children[1]?.layers.map((l) => l.digest), describeRun(arm));

  // Back with --all: identical index and children, every blob intact.
  const back = join(sandbox.work, 'back');
  await sandbox.clients.skopeoOk(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', dest, `oci:${back}:multi`]);
  const backIndex = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as IndexBody;
  assert.equal(backIndex.manifests[0]?.digest, index.digest);
  const blobs = await hashLayoutBlobs(back);
  for (const [name, actual] of blobs) assert.equal(actual, name, `blob ${name} is corrupt`);
  const expected = [index.digest, ...children.flatMap((c) => [c.manifest.digest, c.config.digest, ...c.layers.map((l) => l.digest)])];
  assert.deepEqual([...blobs.keys()].sort(), expected.sort());
});

registryTest('skopeo copy without --all pushes only the amd64 image', srv, async () => {
  const repo = uniqueRepo('skopeo-single-of-multi');
  const dest = `docker://${srv().host}/${repo}:amd64`;
  await sandbox.clients.skopeoOk(['--override-arch', 'amd64', 'copy', '--dest-tls-verify=false', layout.ref('multi'), dest]);
  const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', dest]);
  assert.equal(sha256(raw.stdout), children[0]?.manifest.digest, describeRun(raw));
  // The arm64 child was never pushed to this repository.
  const arm = await sandbox.clients.skopeo(['inspect', '--raw', '--tls-verify=false',
    `docker://${srv().host}/${repo}@${children[1]?.manifest.digest ?? ''}`]);
  assert.notEqual(arm.code, 0, `arm64 manifest should be unknown\n${describeRun(arm)}`);
  assert.match(arm.stderr, /manifest unknown/i, describeRun(arm));
});
