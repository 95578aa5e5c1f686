import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useE2eSandbox } from '../helpers/sandbox.js';
import { registryTest } from '../helpers/e2e.js';
import { sha256, sha256File } from '../helpers/hash.js';
import { describeRun, runOk, stdoutJson } from '../helpers/run.js';
import { uniqueRepo } from '../helpers/temp.js';

// buildah: from scratch, copy a file, commit, push; then read it back with skopeo.

const sandbox = useE2eSandbox('buildah');
const srv = sandbox.srv;

registryTest('buildah from scratch + copy + commit + push; skopeo sees the image and the file', srv, async () => {
  const content = `built by buildah at ${new Date().toISOString()}\n`;
  await writeFile(join(sandbox.work, 'hello.txt'), content);
  const local = `localhost/${uniqueRepo('buildah-local')}:v1`;
  const ref = `${srv().host}/${uniqueRepo('buildah')}:v1`;

  const from = await sandbox.clients.buildahOk(['from', 'scratch']);
  const container = from.stdout.trim();
  assert.ok(container, describeRun(from));
  try {
    await sandbox.clients.buildahOk(['copy', container, join(sandbox.work, 'hello.txt'), '/hello.txt']);
    await sandbox.clients.buildahOk(['config', '--cmd', '/hello.txt', '--label', 'org.example.built-by=buildah', container]);
    await sandbox.clients.buildahOk(['commit', '-q', container, local]);
  } finally {
    await sandbox.clients.buildah(['rm', container]);
  }
  const digestFile = join(sandbox.work, 'push.digest');
  await sandbox.clients.buildahOk(['push', '--tls-verify=false', '--digestfile', digestFile, local, `docker://${ref}`]);
  const pushed = (await readFile(digestFile, 'utf8')).trim();

  const inspect = await sandbox.clients.skopeoOk(['inspect', '--tls-verify=false', `docker://${ref}`]);
  const info = stdoutJson<{ Digest: string; Labels: Record<string, string>; Layers: string[] }>(inspect);
  const why = describeRun(inspect);
  assert.equal(info.Digest, pushed, why);
  assert.equal(info.Labels['org.example.built-by'], 'buildah', why);
  assert.equal(info.Layers.length, 1, why);

  const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  assert.equal(sha256(raw.stdout), pushed, describeRun(raw));
  const config = await sandbox.clients.skopeoOk(['inspect', '--config', '--tls-verify=false', `docker://${ref}`]);
  assert.deepEqual(stdoutJson<{ config: { Cmd: string[] } }>(config).config.Cmd, ['/hello.txt'], describeRun(config));

  // The layer really holds the copied file.
  const back = join(sandbox.work, 'back');
  await sandbox.clients.skopeoOk(['copy', '--src-tls-verify=false', `docker://${ref}`, `dir:${back}`]);
  const layer = info.Layers[0] ?? '';
  const layerFile = join(back, layer.slice('sha256:'.length));
  assert.equal(await sha256File(layerFile), layer);
  const extracted = await runOk('tar', ['-xzOf', layerFile, '--wildcards', '*hello.txt']);
  assert.equal(extracted.stdout, content, describeRun(extracted));
});
