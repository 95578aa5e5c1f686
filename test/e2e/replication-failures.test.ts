import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { registryTest } from '../helpers/e2e.js';
import { sha256 } from '../helpers/hash.js';
import { freePort } from '../helpers/net.js';
import { describeHttp, pushBlob, putManifest, request, type Target } from '../helpers/oci-http.js';
import { createEndpoint, createPolicy, getExecution, listTasks, runPolicy, taskLog, waitForExecution } from '../helpers/replication.js';
import { startReference, startWharf, type RegistryHandle } from '../helpers/server.js';
import { uniqueRepo } from '../helpers/temp.js';
import { api, prepareE2eProject } from '../helpers/wharf-api.js';
import { MT } from '../fixtures/oci-layout.js';

// Failure injection, with the jobs on Redis (BullMQ): a target that is down (retries, then a
// clear failure), the same target coming back (resume succeeds), and kill -9 of Wharf in the
// middle of an execution (restart, every artifact copied once, digests intact).

const JOBS = { backend: 'redis', redis: { url: 'redis://127.0.0.1:6379', prefix: `wharf-e2e-${randomUUID().slice(0, 8)}` }, leaseSeconds: 3 };
let wharf: RegistryHandle | undefined;
const handles: RegistryHandle[] = [];

before(async () => {
  wharf = await started(startWharf({ config: { jobs: JOBS } }));
  await prepareE2eProject(wharf);
});

after(async () => {
  // Later handles first: a restarted Wharf reuses the first one's data dir.
  for (const h of handles.reverse()) await h.stop();
});

async function started<T extends RegistryHandle>(h: Promise<T>): Promise<T> {
  const handle = await h;
  handles.push(handle);
  return handle;
}

const srv = (): RegistryHandle => {
  assert.ok(wharf, 'wharf not started');
  return wharf;
};

/** An image with one incompressible layer of `bytes`, pushed by tag; resolves its digest. */
async function pushImage(target: Target, repo: string, tag: string, bytes: number): Promise<string> {
  const layer = await pushBlob(target, repo, randomBytes(bytes));
  const config = await pushBlob(target, repo, JSON.stringify({ architecture: 'amd64', os: 'linux', tag, rootfs: { type: 'layers', diff_ids: [] } }));
  const body = JSON.stringify({
    schemaVersion: 2, mediaType: MT.manifest, config: { mediaType: MT.config, ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
  });
  const put = await putManifest(target, repo, tag, body, MT.manifest);
  assert.equal(put.status, 201, describeHttp('PUT manifest', put));
  return sha256(body);
}

async function digestOn(registry: RegistryHandle, repo: string, tag: string): Promise<string | null> {
  const res = await request(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: MT.manifest } });
  return res.status === 200 ? res.headers.get('docker-content-digest') : null;
}

registryTest('a target that is down: three attempts, a clear failure; back up, resume succeeds', () => wharf, async () => {
  const port = await freePort();
  const repo = uniqueRepo('down');
  const digest = await pushImage(srv(), repo, 'v1', 4096);
  await createEndpoint(srv(), 'down', `http://127.0.0.1:${port}`);
  const policy = await createPolicy(srv(), {
    name: 'to-down', mode: 'push', endpoint: 'down', trigger: 'manual', flatten: 'none',
    filters: { repositories: [{ kind: 'glob', pattern: repo, decision: 'include' }], tags: [] },
  });
  const id = await runPolicy(srv(), policy.id);
  const failed = await waitForExecution(srv(), id, { timeoutMs: 60_000 });
  assert.equal(failed.status, 'failed', JSON.stringify(failed));
  const [task] = await listTasks(srv(), id);
  assert.equal(task?.status, 'failed');
  assert.equal(task?.attempts, 3, JSON.stringify(task));
  assert.match(task?.error ?? '', /endpoint "down" .*cannot reach the registry \(ECONNREFUSED\)/, JSON.stringify(task));
  const log = await taskLog(srv(), id, task!.id);
  assert.equal(log.filter((l) => l.endsWith('; retrying')).length, 2, log.join('\n'));

  // The registry comes back on the same address; resuming runs the failed task again.
  const target = await started(startReference({ port }));
  const resumed = (await api(srv(), 'POST', `/replication/executions/${id}/resume`, undefined, { expect: 200 })).json as { status: string };
  assert.ok(['running', 'pending', 'succeeded'].includes(resumed.status), JSON.stringify(resumed));
  const done = await waitForExecution(srv(), id, { timeoutMs: 60_000 });
  assert.equal(done.status, 'succeeded', JSON.stringify(done));
  assert.equal(await digestOn(target, repo, 'v1'), digest);
  // Only failed or stopped executions resume.
  await api(srv(), 'POST', `/replication/executions/${id}/resume`, undefined, { expect: 412 });
});

registryTest('kill -9 in the middle of an execution: after restart it finishes, each artifact copied once, digests intact', () => wharf, async () => {
  const target = await started(startReference());
  const repo = uniqueRepo('crash');
  const tags = ['a', 'b', 'c'];
  const digests = new Map<string, string>();
  for (const tag of tags) digests.set(tag, await pushImage(srv(), repo, tag, 1536 * 1024));
  await createEndpoint(srv(), 'crash-target', target.url);
  // 256 KiB/s per task: each 1.5 MiB image takes about six seconds, time enough to kill Wharf.
  const policy = await createPolicy(srv(), {
    name: 'crash', mode: 'push', endpoint: 'crash-target', trigger: 'manual', flatten: 'none', bandwidthKbps: 256,
    filters: { repositories: [{ kind: 'glob', pattern: repo, decision: 'include' }], tags: [] },
  });
  const id = await runPolicy(srv(), policy.id);
  await waitForExecution(srv(), id, { timeoutMs: 30_000, until: (e) => e.tasks.running > 0 });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await getExecution(srv(), id)).status, 'running');

  const crashed = srv();
  await crashed.kill('SIGKILL');
  wharf = await started(startWharf({ config: { jobs: JOBS }, dataDir: crashed.dataDir, port: crashed.port }));

  const done = await waitForExecution(srv(), id, { timeoutMs: 90_000 });
  assert.equal(done.status, 'succeeded', JSON.stringify(done));
  assert.equal(done.tasks.total, tags.length);
  assert.equal(done.tasks.succeeded, tags.length);
  const tasks = await listTasks(srv(), id);
  assert.deepEqual(tasks.map((t) => t.source).sort(), tags.map((t) => `${repo}:${t}`));
  for (const tag of tags) assert.equal(await digestOn(target, repo, tag), digests.get(tag), `${repo}:${tag} on the target`);
});

