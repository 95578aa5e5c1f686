import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  coreServices, definePlugin, projectServices, replicationEvents, Type,
  type Digest, type EventEnvelope, type ReplicationStatusChangedData, type ReplicationStatusEvent, type ReplicationTarget, type WharfPlugin,
} from '@wharf/sdk';
import { createTestKernel, type TestKernel } from '@wharf/sdk-testing';
import { copyArtifact, MountHints } from './copier.js';
import { replicationPlugin } from './index.js';
import { createLocalTarget } from './local-target.js';
import type { Execution, PolicyInput } from './model.js';
import type { Replication } from './replication.js';
import { replicationServiceRef } from './services.js';

// The engine end to end inside one process: two real kernels (SQLite, fs storage), the second
// reached through a `loopback` adapter plugin that opens its local target. The OCI adapter
// and real registries are covered by the e2e tests; this file pins the engine's own rules.

const sha256 = (b: Buffer | string): Digest => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Booted {
  kernel: TestKernel;
  cleanup(): Promise<void>;
}

async function boot(config: Record<string, unknown>, plugins: WharfPlugin[] = []): Promise<Booted> {
  const kernel = await createTestKernel({ config: { jobs: { pollIntervalMs: 50 }, ...config }, plugins });
  return { kernel, cleanup: () => kernel.close() };
}

const replicationOf = (kernel: TestKernel): Replication => kernel.get(replicationServiceRef);

function localOf(kernel: TestKernel): ReplicationTarget {
  const { knex } = kernel.get(coreServices.database);
  return createLocalTarget({
    artifacts: kernel.get(coreServices.artifacts), blobs: kernel.get(coreServices.blobs), content: kernel.get(coreServices.content),
    ping: async () => void (await knex.raw('select 1')),
  });
}

/** Pushes a one-layer image with `layerBytes` of content; resolves its manifest digest. */
async function pushImage(target: ReplicationTarget, repository: string, tag: string, layerBytes: number, seed = repository): Promise<Digest> {
  const layer = Buffer.alloc(layerBytes, seed);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed, rootfs: { type: 'layers', diff_ids: [] } }));
  for (const blob of [layer, config]) await target.writeBlob(repository, sha256(blob), blob.length, Readable.from([blob]));
  const payload = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
  }));
  const digest = sha256(payload);
  await target.putManifest(repository, tag, { digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: payload.length, payload });
  return digest;
}

async function waitFinal(kernel: TestKernel, id: number, timeoutMs = 20_000): Promise<Execution> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = await replicationOf(kernel).store.getExecution(id);
    if (e && ['succeeded', 'failed', 'stopped'].includes(e.status)) return e;
    if (Date.now() > deadline) throw new Error(`execution ${id} still ${e?.status}: ${JSON.stringify(e)}`);
    await sleep(50);
  }
}

function policy(overrides: Partial<PolicyInput> & { name: string; endpointId: number }): PolicyInput {
  return {
    description: '', mode: 'push', filters: { repositories: [], tags: [] }, destinationNamespace: undefined, flatten: 'none',
    trigger: 'manual', cron: undefined, replicateDeletion: false, override: true, bandwidthKbps: -1, chunkSize: undefined, enabled: true,
    ...overrides,
  };
}

describe('replication engine (two kernels, loopback adapter)', () => {
  let away: Booted;
  let home: Booted;
  let source: ReplicationTarget;
  let destination: ReplicationTarget;
  let endpointId: number;
  const events: ReplicationStatusEvent[] = [];
  const durable: EventEnvelope<ReplicationStatusChangedData>[] = [];
  // What an RBAC plugin with projects would be asked: [project, owner]; `existing` already exist.
  const ensured: [string, string | undefined][] = [];
  const existing = new Set<string>();
  const projects = definePlugin({
    id: 'fake-projects', kind: 'extension', version: '1.0.0', kernel: '^0.1.0', configSchema: Type.Object({}),
    register(ctx) {
      ctx.provide(projectServices.provisioning, {
        factory: () => ({
          async ensureProject(name: string, options?: { owner?: string | undefined }) {
            ensured.push([name, options?.owner]);
            if (existing.has(name)) return false;
            existing.add(name);
            return true;
          },
        }),
      });
    },
  });

  before(async () => {
    away = await boot({ replication: {} });
    const loopback = definePlugin({
      id: 'loopback', kind: 'replication', version: '1.0.0', kernel: '^0.1.0', configSchema: Type.Object({}),
      register(ctx) {
        ctx.hooks.replication.target.for('loopback').tap(ctx.id, () => localOf(away.kernel));
        ctx.hooks.replication.statusChanged.tapPromise(ctx.id, async (e) => void events.push(e));
        ctx.events.subscribe({
          name: 'test-replication-status', types: [replicationEvents.statusChanged],
          handle: async ({ event }) => void durable.push(event as EventEnvelope<ReplicationStatusChangedData>),
        });
      },
    });
    home = await boot({ replication: { loopback: {} }, extensions: { replication: { keepExecutions: 5 } } }, [loopback, replicationPlugin as WharfPlugin, projects]);
    source = localOf(home.kernel);
    destination = localOf(away.kernel);
    endpointId = (await replicationOf(home.kernel).store.createEndpoint({ name: 'away', type: 'loopback', url: 'http://away.invalid', username: 'u', secret: 's3cret' })).id;
  });

  after(async () => {
    await home?.cleanup();
    await away?.cleanup();
  });

  it('stores the endpoint secret encrypted and hands it to the adapter decrypted', async () => {
    const { knex } = home.kernel.get(coreServices.database);
    const row = (await knex('replication_endpoints').where({ id: endpointId }).first()) as { secret: string };
    assert.ok(!row.secret.includes('s3cret'));
    assert.match(row.secret, /^v1:/);
    assert.deepEqual(await replicationOf(home.kernel).store.credentialsOf(endpointId), { username: 'u', password: 's3cret' });
  });

  it('a ping says what it checked: credentials only when there are some', async () => {
    const replication = replicationOf(home.kernel);
    assert.deepEqual(await replication.pingEndpoint((await replication.store.getEndpoint(endpointId))!), { ok: true, message: 'the registry answered and accepted the credentials' });
    const anonymous = await replication.store.createEndpoint({ name: 'away-anonymous', type: 'loopback', url: 'http://away.invalid' });
    const answer = await replication.pingEndpoint(anonymous);
    assert.equal(answer.ok, true);
    assert.match(answer.message, /^the registry answered an anonymous request \(no credentials are set, so none were checked\)$/);
    assert.deepEqual(await replication.ping({ name: 'unsaved', type: 'loopback', url: 'http://away.invalid' }), answer);
    assert.deepEqual(await replication.ping({ name: 'unsaved', type: 'loopback', url: 'http://away.invalid', username: 'u', secret: 's' }), { ok: true, message: 'the registry answered and accepted the credentials' });
    await replication.store.deleteEndpoint(anonymous.id);
  });

  it('a manual push copies the filtered tags with their digests, and says so in events', async () => {
    const d1 = await pushImage(source, 'team/app', '1.0', 1000);
    await pushImage(source, 'team/app', 'dev', 1000, 'dev');
    await pushImage(source, 'other/app', '1.0', 1000, 'other');
    const { store, engine } = replicationOf(home.kernel);
    const p = await store.createPolicy(policy({
      name: 'manual-push', endpointId,
      filters: { repositories: [{ kind: 'glob', pattern: 'team/**', decision: 'include' }], tags: [{ kind: 'regex', pattern: '\\d+\\.\\d+', decision: 'include' }] },
      destinationNamespace: 'mirror', flatten: 1,
    }));
    events.length = 0;
    const e = await waitFinal(home.kernel, await engine.start(p, 'manual'));
    assert.equal(e.status, 'succeeded', JSON.stringify(e));
    assert.equal(e.tasks.total, 1);
    assert.ok(e.bytes > 1000);
    assert.equal((await destination.headManifest('mirror/app', '1.0'))?.digest, d1);
    assert.equal(await destination.headManifest('mirror/app', 'dev'), undefined);
    const kinds = events.filter((x) => x.kind === 'execution').map((x) => x.status);
    assert.deepEqual(kinds, ['pending', 'running', 'succeeded']);
    const finished = events.find((x) => x.kind === 'task' && x.status === 'succeeded' && x.destination === 'mirror/app:1.0');
    assert.ok(finished);
    // The finished task says what it copied (metrics count replication bytes per policy from it).
    assert.equal(finished.bytes, e.bytes);
    assert.equal(events.find((x) => x.kind === 'task' && x.status === 'running')?.bytes, undefined);
    // The same changes as durable `replication.status.changed` events, with the counts at that moment.
    const deadline = Date.now() + 10_000;
    const mine = () => durable.filter((x) => x.data.executionId === e.id);
    while (mine().length < 3 && Date.now() < deadline) await sleep(25);
    assert.deepEqual(mine().map((x) => x.data.status), ['pending', 'running', 'succeeded']);
    const done = mine()[2]!;
    assert.equal(done.type, 'replication.status.changed');
    assert.equal(done.partition, `replication:${p.id}`);
    assert.deepEqual(
      { ...done.data, startedAt: typeof done.data.startedAt, finishedAt: typeof done.data.finishedAt },
      { policyId: p.id, policyName: 'manual-push', executionId: e.id, status: 'succeeded', trigger: 'manual', mode: 'push', endpoint: 'away',
        startedAt: 'string', finishedAt: 'string', total: 1, succeeded: 1, failed: 0, stopped: 0, skipped: 0, bytes: e.bytes,
        statusText: '1 succeeded, 0 failed, 0 stopped, 0 skipped of 1', project: 'team' },
    );
    assert.equal(mine()[0]!.data.finishedAt, undefined);

    // Run again: the destination has it, nothing is copied, the task still succeeds.
    const again = await waitFinal(home.kernel, await engine.start(p, 'manual'));
    assert.equal(again.status, 'succeeded');
    assert.equal(again.bytes, 0);
  });

  it('mounts a blob the destination already holds in another repository instead of sending it again', async () => {
    await pushImage(source, 'share/one', 'v1', 4096, 'shared-layer');
    await pushImage(source, 'share/two', 'v1', 4096, 'shared-layer');
    const { store, engine } = replicationOf(home.kernel);
    const only = (repo: string) => ({ repositories: [{ kind: 'glob' as const, pattern: repo, decision: 'include' as const }], tags: [] });
    const first = await store.createPolicy(policy({ name: 'share-one', endpointId, filters: only('share/one') }));
    const second = await store.createPolicy(policy({ name: 'share-two', endpointId, filters: only('share/two') }));
    const e1 = await waitFinal(home.kernel, await engine.start(first, 'manual'));
    assert.ok(e1.bytes >= 4096, JSON.stringify(e1));
    const e2 = await waitFinal(home.kernel, await engine.start(second, 'manual'));
    assert.equal(e2.status, 'succeeded');
    assert.equal(e2.bytes, 0, 'nothing was uploaded: both blobs were mounted');
    const [task] = (await store.listTasks(e2.id, { page: 1, pageSize: 10 })).items;
    const log = await store.taskLog(task!.id);
    assert.equal(log.filter((l) => l.message.startsWith('mounted blob')).length, 2, log.map((l) => l.message).join('\n'));
    assert.equal(await destination.hasBlob('share/two', sha256(Buffer.alloc(4096, 'shared-layer'))), true);
  });

  it('override off keeps a destination tag that points at other content', async () => {
    await pushImage(source, 'keep/app', 'v1', 10, 'new');
    const theirs = await pushImage(destination, 'keep/app', 'v1', 10, 'theirs');
    const { store, engine } = replicationOf(home.kernel);
    const p = await store.createPolicy(policy({ name: 'no-override', endpointId, override: false, filters: { repositories: [{ kind: 'glob', pattern: 'keep/*', decision: 'include' }], tags: [] } }));
    const e = await waitFinal(home.kernel, await engine.start(p, 'manual'));
    assert.equal(e.status, 'succeeded');
    assert.equal(e.tasks.skipped, 1);
    assert.equal((await destination.headManifest('keep/app', 'v1'))?.digest, theirs);
  });

  it('event-based push copies what is pushed, and deletions when asked', async () => {
    const { store } = replicationOf(home.kernel);
    const p = await store.createPolicy(policy({
      name: 'on-push', endpointId, trigger: 'event', replicateDeletion: true,
      filters: { repositories: [{ kind: 'glob', pattern: 'events/**', decision: 'include' }], tags: [] },
    }));
    const digest = await pushImage(source, 'events/app', 'live', 100);
    const deadline = Date.now() + 20_000;
    while ((await destination.headManifest('events/app', 'live'))?.digest !== digest) {
      assert.ok(Date.now() < deadline, 'the pushed tag never reached the destination');
      await sleep(50);
    }
    await source.deleteManifest('events/app', 'live');
    while (await destination.headManifest('events/app', 'live')) {
      assert.ok(Date.now() < deadline, 'the deleted tag is still at the destination');
      await sleep(50);
    }
    const executions = await store.listExecutions({ page: 1, pageSize: 10 }, p.id);
    assert.deepEqual(executions.items.map((e) => e.trigger), ['event', 'event']);
  });

  it('stop aborts an execution; resume runs only the tasks that did not succeed', async () => {
    for (const tag of ['a', 'b', 'c']) await pushImage(source, 'slow/app', tag, 192 * 1024, `slow-${tag}`);
    const { store, engine } = replicationOf(home.kernel);
    // 64 KiB/s: each image takes about three seconds, so the stop lands mid-copy.
    const p = await store.createPolicy(policy({ name: 'slow', endpointId, bandwidthKbps: 64, filters: { repositories: [{ kind: 'glob', pattern: 'slow/*', decision: 'include' }], tags: [] } }));
    const id = await engine.start(p, 'manual');
    const deadline = Date.now() + 20_000;
    while ((await store.getExecution(id))?.tasks.running === 0) {
      assert.ok(Date.now() < deadline, 'no task started');
      await sleep(20);
    }
    await engine.stop(id);
    const stopped = await waitFinal(home.kernel, id);
    assert.equal(stopped.status, 'stopped', JSON.stringify(stopped));
    assert.ok(stopped.tasks.stopped >= 1, JSON.stringify(stopped));
    const before = (await store.listTasks(id, { page: 1, pageSize: 10 })).items;

    await store.updatePolicy(p.id, { ...p, bandwidthKbps: -1 });
    await engine.resume(id);
    const resumed = await waitFinal(home.kernel, id);
    assert.equal(resumed.status, 'succeeded', JSON.stringify(resumed));
    assert.equal(resumed.tasks.succeeded, 3);
    const afterTasks = (await store.listTasks(id, { page: 1, pageSize: 10 })).items;
    for (const task of before.filter((t) => t.status === 'succeeded')) {
      assert.equal(afterTasks.find((t) => t.id === task.id)?.attempts, task.attempts, 'a finished task ran again');
    }
    for (const tag of ['a', 'b', 'c']) assert.ok(await destination.headManifest('slow/app', tag), `slow/app:${tag} missing`);
  });

  it('stopping mid-blob without a bandwidth limit fails the copy at once, even into a destination that ignores the signal', async () => {
    const layerBytes = 2 * 1024 * 1024;
    await pushImage(source, 'stall/app', 'v1', layerBytes, 'stall');
    // The source's blobs send their first 64 KiB and then stall, as a hung source registry does.
    const stalling: ReplicationTarget = {
      ...source,
      async readBlob(repository, blobDigest, signal) {
        const blob = await source.readBlob(repository, blobDigest, signal);
        const first = await new Promise<Buffer>((resolve) => blob.stream.once('readable', () => resolve(blob.stream.read(Math.min(64 * 1024, blob.size)) as Buffer)));
        blob.stream.destroy();
        const stream = new Readable({ read() {} });
        stream.push(first);
        return { size: blob.size, stream };
      },
    };
    const controller = new AbortController();
    const lines: string[] = [];
    const copying = copyArtifact(
      { target: stalling, repository: 'stall/app', reference: 'v1' },
      { target: destination, repository: 'stall/app', reference: 'v1' },
      { override: true, chunkSize: undefined, throttle: undefined, signal: controller.signal, log: async (line) => void lines.push(line), mounts: new MountHints() },
    );
    await sleep(200);
    const stoppedAt = Date.now();
    controller.abort(new Error('stopped by the test'));
    await assert.rejects(copying, /stopped by the test/);
    assert.ok(Date.now() - stoppedAt < 2_000, 'the copy ended promptly');
    assert.equal(await destination.headManifest('stall/app', 'v1'), undefined);
    assert.equal(lines.some((l) => l.startsWith('copied blob')), false, lines.join('\n'));
  });

  it('a pull creates the missing destination project, owned by the policy creator; a push does not', async () => {
    await pushImage(destination, 'pulled/app', 'v1', 100, 'pulled');
    await pushImage(destination, 'pulled/tool', 'v1', 100, 'pulled-tool');
    const { store, engine } = replicationOf(home.kernel);
    const only = { repositories: [{ kind: 'glob' as const, pattern: 'pulled/**', decision: 'include' as const }], tags: [] };
    const p = await store.createPolicy(policy({ name: 'pull-into-project', endpointId, mode: 'pull', filters: only }), 'alice');
    assert.equal(p.createdBy, 'alice');
    ensured.length = 0;
    const e = await waitFinal(home.kernel, await engine.start(p, 'manual'));
    assert.equal(e.status, 'succeeded', JSON.stringify(e));
    assert.equal(e.tasks.succeeded, 2);
    assert.deepEqual(ensured, [['pulled', 'alice'], ['pulled', 'alice']], 'asked before each task; created once');
    assert.ok(await source.headManifest('pulled/app', 'v1'));
    const tasks = (await store.listTasks(e.id, { page: 1, pageSize: 10 })).items;
    const logs = await Promise.all(tasks.map(async (t) => (await store.taskLog(t.id)).map((l) => l.message)));
    assert.equal(logs.flat().filter((m) => m === 'created project pulled (private, owner alice)').length, 1, logs.flat().join('\n'));
    // An update keeps the creator.
    assert.equal((await store.updatePolicy(p.id, { ...p, description: 'changed' }))?.createdBy, 'alice');

    ensured.length = 0;
    await pushImage(source, 'pushed/app', 'v1', 100, 'pushed');
    const push = await store.createPolicy(policy({ name: 'push-no-project', endpointId, filters: { ...only, repositories: [{ kind: 'glob', pattern: 'pushed/**', decision: 'include' }] } }), 'alice');
    assert.equal((await waitFinal(home.kernel, await engine.start(push, 'manual'))).status, 'succeeded');
    assert.deepEqual(ensured, [], 'a push writes to the other registry: no local project');
  });

  it('keeps the configured number of finished executions per policy', async () => {
    const { store, engine } = replicationOf(home.kernel);
    const p = await store.createPolicy(policy({ name: 'history', endpointId, filters: { repositories: [{ kind: 'glob', pattern: 'none/*', decision: 'include' }], tags: [] } }));
    const keep = 5; // extensions.replication.keepExecutions
    for (let i = 0; i < keep + 3; i++) await waitFinal(home.kernel, await engine.start(p, 'manual'));
    const page = await store.listExecutions({ page: 1, pageSize: 100 }, p.id);
    assert.equal(page.total, keep);
  });
});
