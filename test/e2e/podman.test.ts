import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useE2eSandbox } from '../helpers/sandbox.js';
import { registryTest } from '../helpers/e2e.js';
import { sha256 } from '../helpers/hash.js';
import { describeRun, stdoutJson } from '../helpers/run.js';
import { uniqueRepo } from '../helpers/temp.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, OciLayout } from '../fixtures/oci-layout.js';

// podman pull and push (OCI and Docker schema 2) against the registry.

let layout: OciLayout;
let image: BuiltImage;
const sandbox = useE2eSandbox('podman', async () => {
  ({ layout, image } = await singleImageLayout(join(sandbox.work, 'src')));
});
const srv = sandbox.srv;

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

/** The digests podman recorded for a local image (every registry digest it was pulled or pushed with). */
async function localDigests(ref: string): Promise<{ digest: string; all: string[] }> {
  const r = await sandbox.clients.podmanOk(['image', 'inspect', ref]);
  const [info] = stdoutJson<{ Digest: string; RepoDigests: string[] }[]>(r);
  assert.ok(info, describeRun(r));
  return { digest: info.Digest, all: info.RepoDigests.map((d) => d.slice(d.indexOf('@') + 1)) };
}

/** What the registry holds under a reference, checked with skopeo. */
async function remoteManifest(ref: string): Promise<{ digest: string; mediaType: string; layers: number }> {
  const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  const body = stdoutJson<{ mediaType: string; layers: unknown[] }>(raw);
  return { digest: sha256(raw.stdout), mediaType: body.mediaType, layers: body.layers.length };
}

registryTest('podman pull gets the image with the digest that was pushed', srv, async () => {
  const ref = `${srv().host}/${uniqueRepo('podman-pull')}:v1`;
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', layout.ref('v1'), `docker://${ref}`]);
  await sandbox.clients.podmanOk(['pull', '--tls-verify=false', ref]);
  const local = await localDigests(ref);
  assert.equal(local.digest, image.manifest.digest);
  const files = await sandbox.clients.podmanOk(['image', 'inspect', '--format', '{{.Config.Labels}} {{.Architecture}}', ref]);
  assert.match(files.stdout, /org\.example\.fixture:single/, describeRun(files));
  assert.match(files.stdout, /amd64/, describeRun(files));
});

registryTest('podman push --format oci and v2s2; the registry serves what podman reports', srv, async () => {
  const source = `${srv().host}/${uniqueRepo('podman-src')}:v1`;
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', layout.ref('v1'), `docker://${source}`]);
  await sandbox.clients.podmanOk(['pull', '--tls-verify=false', source]);

  const repo = uniqueRepo('podman-push');
  const cases = [
    { format: 'oci', mediaType: OCI_MANIFEST },
    { format: 'v2s2', mediaType: DOCKER_MANIFEST },
  ];
  for (const { format, mediaType } of cases) {
    const target = `${srv().host}/${repo}:${format}`;
    const digestFile = join(sandbox.work, `push-${format}.digest`);
    await sandbox.clients.podmanOk(['push', '--tls-verify=false', '--format', format, '--digestfile', digestFile, source, `docker://${target}`]);
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    const remote = await remoteManifest(target);
    assert.equal(remote.digest, pushed, `${format}: the registry serves other bytes than podman pushed`);
    assert.equal(remote.mediaType, mediaType, `${format}: wrong manifest type`);
    assert.equal(remote.layers, 1);
  }

  // Pull what podman pushed into a clean store: the pulled digest matches the pushed one.
  await sandbox.clients.podmanOk(['rmi', '--all', '--force']);
  for (const format of ['oci', 'v2s2']) {
    const target = `${srv().host}/${repo}:${format}`;
    await sandbox.clients.podmanOk(['pull', '--tls-verify=false', target]);
    const pushed = (await readFile(join(sandbox.work, `push-${format}.digest`), 'utf8')).trim();
    const local = await localDigests(target);
    assert.ok(local.all.includes(pushed), `${format}: pulled digests ${local.all.join(', ')} lack ${pushed}`);
  }
  const tags = await sandbox.clients.skopeoOk(['list-tags', '--tls-verify=false', `docker://${srv().host}/${repo}`]);
  assert.deepEqual(stdoutJson<{ Tags: string[] }>(tags).Tags.sort(), ['oci', 'v2s2']);
});

registryTest('podman pull of an unknown tag fails cleanly', srv, async () => {
  const ref = `${srv().host}/${uniqueRepo('podman-missing')}:nope`;
  const r = await sandbox.clients.podman(['pull', '--tls-verify=false', ref]);
  assert.notEqual(r.code, 0, describeRun(r));
  assert.match(r.stderr, /manifest unknown|not found/i, describeRun(r));
});
