import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { registryTest } from '../helpers/e2e.js';
import { hashLayoutBlobs, sha256 } from '../helpers/hash.js';
import { createEndpoint, createPolicy, listExecutions, listTasks, taskLog, waitForExecutions, type ExecutionView } from '../helpers/replication.js';
import { describeRun, runOk, stdoutJson } from '../helpers/run.js';
import { repoRoot, startReference, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir, uniqueRepo } from '../helpers/temp.js';
import { api } from '../helpers/wharf-api.js';
import { useE2eSandbox } from '../helpers/sandbox.js';
import { multiPlatformLayout, singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, Descriptor, OciLayout } from '../fixtures/oci-layout.js';

// Push replication from Wharf to Debian's docker-registry (distribution 2.8), plain and with
// htpasswd: skopeo pushes to Wharf, the copy is pulled from docker-registry with skopeo, and
// the digests are compared. Jobs run on the embedded backend (SQLite).

const MIRROR_USER = { username: 'mirror', password: 'Mirror-Passw0rd' };

let single: { layout: OciLayout; image: BuiltImage };
let multi: { layout: OciLayout; index: Descriptor; children: BuiltImage[] };
let plain: RegistryHandle | undefined;
let secured: RegistryHandle | undefined;
let authDir: string | undefined;

const sandbox = useE2eSandbox('replication-push', async (s) => {
  single = await singleImageLayout(join(s.work, 'single'));
  multi = await multiPlatformLayout(join(s.work, 'multi'));
});
const srv = sandbox.srv;

before(async () => {
  plain = await startReference();
  authDir = await makeTempDir('replication-htpasswd');
  const htpasswd = join(authDir, 'htpasswd');
  await runOk('htpasswd', ['-B', '-b', '-c', htpasswd, MIRROR_USER.username, MIRROR_USER.password]);
  secured = await startReference({ config: { auth: { htpasswd: { realm: 'mirror', path: htpasswd } } } });
});

after(async () => {
  await plain?.stop();
  await secured?.stop();
  if (authDir) await removeDir(authDir);
});

const ref = (handle: RegistryHandle | undefined): RegistryHandle => {
  assert.ok(handle, 'docker-registry not started');
  return handle;
};

registryTest('event-based push: an image and a multi-platform index land on docker-registry with the same digests', srv, async () => {
  const prefix = uniqueRepo('push');
  await createEndpoint(srv(), 'plain-registry', ref(plain).url);
  const policy = await createPolicy(srv(), {
    name: 'to-plain', mode: 'push', endpoint: 'plain-registry', trigger: 'event', flatten: 'none',
    filters: { repositories: [{ kind: 'glob', pattern: `${prefix}-**`, decision: 'include' }], tags: [] },
  });

  const repo = `${prefix}-single`;
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${srv().host}/${repo}:v1`]);
  const [first] = await waitForExecutions(srv(), policy.id, 1);
  assert.equal(first?.status, 'succeeded', JSON.stringify(first));
  assert.equal(first?.trigger, 'event');
  const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', `docker://${ref(plain).host}/${repo}:v1`]);
  assert.equal(sha256(raw.stdout), single.image.manifest.digest, describeRun(raw));

  const multiRepo = `${prefix}-multi`;
  await sandbox.clients.skopeoOk(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', multi.layout.ref('multi'), `docker://${srv().host}/${multiRepo}:multi`]);
  // Index children arrive by digest first: only the tagged index starts an execution.
  const executions = await waitForExecutions(srv(), policy.id, 2);
  assert.equal(executions.length, 2, JSON.stringify(executions));
  assert.ok(executions.every((e) => e.status === 'succeeded'), JSON.stringify(executions));

  const copy = `docker://${ref(plain).host}/${multiRepo}:multi`;
  const index = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', copy]);
  assert.equal(sha256(index.stdout), multi.index.digest, describeRun(index));
  const back = join(sandbox.work, 'from-plain');
  await sandbox.clients.skopeoOk(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', copy, `oci:${back}:multi`]);
  const blobs = await hashLayoutBlobs(back);
  for (const [name, actual] of blobs) assert.equal(actual, name, `blob ${name} is corrupt`);
  const expected = [multi.index.digest, ...multi.children.flatMap((c) => [c.manifest.digest, c.config.digest, ...c.layers.map((l) => l.digest)])];
  assert.deepEqual([...blobs.keys()].sort(), expected.sort());

  // The task says what it did, and the log has the lines to show it.
  const latest = executions[0]!;
  const [task] = await listTasks(srv(), latest.id);
  assert.equal(task?.source, `${multiRepo}:multi`);
  assert.equal(task?.digest, multi.index.digest);
  assert.ok((task?.bytes ?? 0) > 0, JSON.stringify(task));
  const log = await taskLog(srv(), latest.id, task!.id);
  assert.ok(log.some((l) => l.startsWith(`put ${multiRepo}:multi`)), log.join('\n'));

  // Pushing the same tag again copies nothing: the destination already has that digest.
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${srv().host}/${repo}:v1`]);
  const third = (await waitForExecutions(srv(), policy.id, 3))[0]!;
  assert.equal(third.status, 'succeeded');
  assert.equal(third.bytes, 0, JSON.stringify(third));
});

registryTest('manual push to docker-registry with htpasswd, into a namespace with flattening', srv, async () => {
  const repo = uniqueRepo('push-flat');
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${srv().host}/${repo}:v1`]);
  await sandbox.clients.skopeoOk(['copy', '--dest-tls-verify=false', single.layout.ref('v1'), `docker://${srv().host}/${repo}:skip-me`]);

  // A wrong secret is caught by the ping, with the registry's answer.
  const bad = await createEndpoint(srv(), 'secured-wrong', ref(secured).url, { username: MIRROR_USER.username, password: 'Not-The-Passw0rd' });
  const badPing = (await api(srv(), 'POST', `/registries/${bad.id}/ping`, undefined, { expect: 200 })).json as { ok: boolean; message: string };
  assert.equal(badPing.ok, false);
  assert.match(badPing.message, /unauthori[sz]ed|401/i);
  assert.ok(!badPing.message.includes('Not-The-Passw0rd'), 'the secret leaked into the message');
  const good = await createEndpoint(srv(), 'secured', ref(secured).url, MIRROR_USER);
  const ping = (await api(srv(), 'POST', `/registries/${good.id}/ping`, undefined, { expect: 200 })).json as { ok: boolean };
  assert.equal(ping.ok, true);
  // The secret never comes back.
  const shown = (await api(srv(), 'GET', `/registries/${good.id}`, undefined, { expect: 200 })).json as Record<string, unknown>;
  assert.equal(shown['hasSecret'], true);
  assert.ok(!JSON.stringify(shown).includes(MIRROR_USER.password));

  const policy = await createPolicy(srv(), {
    name: 'to-secured', mode: 'push', endpoint: 'secured', trigger: 'manual', destinationNamespace: 'mirror', flatten: 1, chunkSize: 1_048_576,
    filters: { repositories: [{ kind: 'regex', pattern: repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), decision: 'include' }], tags: [{ kind: 'glob', pattern: 'skip-*', decision: 'exclude' }] },
  });
  // Started from the CLI on the registry's database; the running server does the copying.
  const cli = await runOk(process.execPath, [join(repoRoot, 'server/bin/wharf.js'), 'replication', 'run', policy.name, '--wait', '--json', '--data-dir', srv().dataDir], { timeoutMs: 120_000 });
  const execution = stdoutJson<ExecutionView>(cli);
  assert.equal(execution.status, 'succeeded', describeRun(cli));
  // Not a terminal: progress comes as plain stderr lines (stdout keeps only the JSON).
  assert.match(cli.stderr, new RegExp(`^execution ${execution.id}: (pending|running), \\d+/(\\d+|\\?) tasks done, \\d+ failed, [\\d.]+ (B|KiB|MiB) copied$`, 'm'), describeRun(cli));
  assert.ok(!cli.stderr.includes('\r'), 'no in-place updates outside a terminal');
  assert.equal(execution.tasks.total, 1, 'the excluded tag is not planned');
  // e2e/push-flat-... with one level replaced by `mirror`.
  const destination = `mirror/${repo.split('/').slice(1).join('/')}`;
  const creds = `${MIRROR_USER.username}:${MIRROR_USER.password}`;
  const raw = await sandbox.clients.skopeoOk(['inspect', '--raw', '--tls-verify=false', '--creds', creds, `docker://${ref(secured).host}/${destination}:v1`]);
  assert.equal(sha256(raw.stdout), single.image.manifest.digest, describeRun(raw));
  const tags = stdoutJson<{ Tags: string[] }>(await sandbox.clients.skopeoOk(['list-tags', '--tls-verify=false', '--creds', creds, `docker://${ref(secured).host}/${destination}`]));
  assert.deepEqual(tags.Tags, ['v1']);
  assert.deepEqual((await listExecutions(srv(), policy.id)).map((e) => e.trigger), ['manual']);
});

registryTest('only system administrators manage replication: a user gets 403, anonymous 401', srv, async () => {
  const user = { username: 'replication-viewer', password: 'Viewer-Passw0rd-1' };
  await api(srv(), 'POST', '/users', user, { expect: 201 });
  for (const [method, path, body] of [
    ['GET', '/registries', undefined],
    ['POST', '/registries', { name: 'x', url: 'http://127.0.0.1:1' }],
    ['GET', '/replication/policies', undefined],
    ['POST', '/replication/executions', { policy: 'to-plain' }],
  ] as const) {
    await api(srv(), method, path, body, { as: user, expect: 403 });
    await api({ url: srv().url }, method, path, body, { expect: 401 });
  }
  await api(srv(), 'GET', '/registries', undefined, { expect: 200 });
});
