import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useE2eSandbox } from '../helpers/sandbox.js';
import { registryTest } from '../helpers/e2e.js';
import { sha256 } from '../helpers/hash.js';
import { describeRun, stdoutJson } from '../helpers/run.js';
import { uniqueRepo } from '../helpers/temp.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, OciLayout } from '../fixtures/oci-layout.js';

// skopeo inspect, list-tags and delete against images pushed with skopeo copy.

let layout: OciLayout;
let image: BuiltImage;
let other: BuiltImage;
const sandbox = useE2eSandbox('skopeo-manage', async () => {
  ({ layout, image } = await singleImageLayout(join(sandbox.work, 'src')));
  other = await layout.addImage({
    files: [{ path: 'other.txt', content: 'a different image\n' }],
    labels: { 'org.example.fixture': 'other' },
  }, 'other');
});
const srv = sandbox.srv;

async function push(tag: string, repo: string, source = 'v1'): Promise<string> {
  const dest = `docker://${srv().host}/${repo}:${tag}`;
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', layout.ref(source), dest]);
  return dest;
}

async function tags(repo: string): Promise<string[]> {
  const r = await sandbox.clients.skopeoOk(['list-tags', '--tls-verify=false', `docker://${srv().host}/${repo}`]);
  const body = stdoutJson<{ Repository: string; Tags: string[] }>(r);
  assert.equal(body.Repository, `${srv().host}/${repo}`, describeRun(r));
  return [...body.Tags].sort();
}

registryTest('skopeo inspect reports the config fields and the exact config blob', srv, async () => {
  const repo = uniqueRepo('inspect');
  const dest = await push('v1', repo);
  const r = await sandbox.clients.skopeoOk(['inspect', '--tls-verify=false', dest]);
  const info = stdoutJson<Record<string, unknown>>(r);
  const why = describeRun(r);
  assert.equal(info['Name'], `${srv().host}/${repo}`, why);
  assert.equal(info['Digest'], image.manifest.digest, why);
  assert.equal(info['Architecture'], 'amd64', why);
  assert.equal(info['Os'], 'linux', why);
  assert.equal(info['Created'], '2024-01-01T00:00:00Z', why);
  assert.deepEqual(info['Labels'], { 'org.example.fixture': 'single', 'org.example.version': '1' }, why);
  assert.deepEqual(info['Env'], ['PATH=/usr/bin:/bin', 'WHARF_FIXTURE=single'], why);
  assert.deepEqual(info['Layers'], image.layers.map((l) => l.digest), why);
  assert.deepEqual(info['RepoTags'], ['v1'], why);

  const cfg = await sandbox.clients.skopeoOk(['inspect', '--config', '--raw', '--tls-verify=false', dest]);
  assert.equal(sha256(cfg.stdout), image.config.digest, `config blob bytes differ\n${describeRun(cfg)}`);
  assert.deepEqual(stdoutJson(cfg), image.configJson);
});

registryTest('skopeo list-tags lists every tag pushed, and only those', srv, async () => {
  const repo = uniqueRepo('tags');
  for (const tag of ['v1', 'v2', 'latest', '1.0.0-rc.1']) await push(tag, repo);
  await push('other', repo, 'other');
  assert.deepEqual(await tags(repo), ['1.0.0-rc.1', 'latest', 'other', 'v1', 'v2']);
  // A second repository does not leak into the first.
  const repo2 = uniqueRepo('tags-2');
  await push('solo', repo2);
  assert.deepEqual(await tags(repo2), ['solo']);
  assert.deepEqual(await tags(repo), ['1.0.0-rc.1', 'latest', 'other', 'v1', 'v2']);
});

registryTest('skopeo delete removes the manifest; inspect then fails with manifest unknown', srv, async () => {
  const repo = uniqueRepo('delete');
  await push('keep', repo);
  const doomed = await push('doomed', repo, 'other');
  const before = await sandbox.clients.skopeoOk(['inspect', '--tls-verify=false', doomed]);
  assert.equal(stdoutJson<{ Digest: string }>(before).Digest, other.manifest.digest);

  await sandbox.clients.skopeoOk(['delete', '--tls-verify=false', doomed]);
  const gone = await sandbox.clients.skopeo(['inspect', '--tls-verify=false', doomed]);
  assert.notEqual(gone.code, 0, `inspect after delete should fail\n${describeRun(gone)}`);
  assert.match(gone.stderr, /manifest unknown/i, describeRun(gone));
  const byDigest = await sandbox.clients.skopeo(['inspect', '--raw', '--tls-verify=false',
    `docker://${srv().host}/${repo}@${other.manifest.digest}`]);
  assert.notEqual(byDigest.code, 0, `the manifest must be gone by digest too\n${describeRun(byDigest)}`);

  // The other image and its tag are untouched.
  assert.deepEqual(await tags(repo), ['keep']);
  const kept = await sandbox.clients.skopeoOk(['inspect', '--tls-verify=false', `docker://${srv().host}/${repo}:keep`]);
  assert.equal(stdoutJson<{ Digest: string }>(kept).Digest, image.manifest.digest);
});
