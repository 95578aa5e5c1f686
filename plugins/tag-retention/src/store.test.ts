import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { coreServices, definePlugin, retentionEvents, Type, type ContentService, type RetentionFinishedData, type WharfPlugin } from '@wharf/sdk';
import { createTestKernel, streamOf, tinyImage, type TestKernel } from '@wharf/sdk-testing';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { tagRetentionPlugin } from './index.js';
import type { RetentionRule } from './model.js';
import { retentionServiceRef, type Retention } from './retention.js';
import { eventually } from './test-support.js';

// The store and the runner on every database: policies round-trip with their types, a run's
// tasks, decisions and counts add up (the sums and the join of the finished event), stop moves a
// pending execution straight to stopped and a running one through stopping, each with its one
// event, and old executions are pruned beyond `keepExecutions`.

const RULES: RetentionRule[] = [
  {
    template: 'latestPushedK', value: 1, repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }],
    tags: [{ kind: 'regex', decoration: 'matches', pattern: 'v\\d+' }], untagged: false, disabled: false,
  },
];

/** What a durable consumer received, as webhooks would. */
const received: RetentionFinishedData[] = [];
const listener = definePlugin({
  id: 'retention-listener', kind: 'extension', version: '0.0.0', kernel: '^0.1.0', configSchema: Type.Object({}),
  register(ctx) {
    ctx.events.subscribe({ name: 'retention-store-test', types: [retentionEvents.finished], handle: async ({ event }) => void received.push(event.data as RetentionFinishedData) });
  },
});

async function push(content: ContentService, repository: string, tag: string, text: string): Promise<string> {
  const image = tinyImage({ text });
  for (const blob of [image.config, image.layer]) await content.putBlob(repository, { digest: blob.digest, size: blob.size, data: streamOf(blob.bytes) });
  return (await content.putManifest(repository, tag, { payload: image.manifest.bytes, mediaType: image.manifest.mediaType })).digest;
}

forEachDatabase((_name, create) => {
  let kernel: TestKernel;
  let retention: Retention;
  let content: ContentService;
  before(async () => {
    received.length = 0;
    const db = await create();
    // Workers poll rarely: these tests drive the runner themselves.
    kernel = await createTestKernel({
      config: { database: { ...db.config }, jobs: { pollIntervalMs: 60_000 }, events: { pollIntervalMs: 50 }, extensions: { 'tag-retention': { keepExecutions: 3 } } },
      plugins: [tagRetentionPlugin as WharfPlugin, listener as WharfPlugin],
    });
    retention = kernel.get(retentionServiceRef);
    content = kernel.get(coreServices.content);
  });
  after(async () => {
    await kernel?.close();
  });
  const eventOf = (executionId: number) => eventually(`the event of execution ${executionId}`, () => received.find((e) => e.executionId === executionId));

  it('round-trips a policy with its types, replaces it and deletes it', async () => {
    const set = await retention.putPolicy('alpha', RULES, '*/5 * * * *', 'mona');
    assert.deepEqual([set.rules, set.cron, set.updatedBy], [RULES, '*/5 * * * *', 'mona']);
    assert.ok(set.updatedAt instanceof Date);
    assert.deepEqual((await retention.store.scheduledPolicies()).map((p) => p.project), ['alpha']);
    const replaced = await retention.putPolicy('alpha', RULES, undefined, 'alice');
    assert.deepEqual([replaced.cron, replaced.updatedBy], [undefined, 'alice']);
    assert.deepEqual(await retention.store.scheduledPolicies(), []);
    assert.equal(await retention.deletePolicy('alpha'), true);
    assert.equal(await retention.deletePolicy('alpha'), false);
    assert.equal(await retention.store.getPolicy('alpha'), undefined);
  });

  it('runs: tasks, decisions and counts add up, and the finished event carries them', async () => {
    for (const [tag, text] of [['v1', 'one'], ['v2', 'two'], ['latest', 'latest']] as const) await push(content, 'beta/app', tag, `${text}\n`);
    await push(content, 'beta/lib', 'v9', 'lib\n');
    const execution = await retention.runner.start('beta', { trigger: 'manual', dryRun: false, rules: RULES, by: 'alice' }, true);
    assert.deepEqual([execution.status, execution.dryRun, execution.total, execution.retained, execution.deleted], ['succeeded', false, 4, 2, 2]);
    assert.ok(execution.finishedAt instanceof Date);
    const tasks = await retention.store.listTasks(execution.id, { page: 1, pageSize: 10 });
    assert.deepEqual(tasks.items.map((t) => [t.repository, t.status, t.total, t.retained, t.deleted]), [['beta/app', 'succeeded', 3, 1, 2], ['beta/lib', 'succeeded', 1, 1, 0]]);
    const decisions = await retention.store.decisions(tasks.items[0]!.id);
    assert.deepEqual(decisions.map((d) => [d.tags.join(), d.outcome]).sort(), [['latest', 'deleted'], ['v1', 'deleted'], ['v2', 'retained']]);
    assert.deepEqual((await kernel.get(coreServices.artifacts).listTags('beta/app')).items.map((t) => t.name), ['v2']);
    const event = await eventOf(execution.id);
    assert.deepEqual([event!.project, event!.status, event!.total, event!.retained, event!.deleted], ['beta', 'succeeded', 4, 2, 2]);
    assert.deepEqual(event!.deletedArtifacts.map((a) => a.tags.join()).sort(), ['latest', 'v1']);
    assert.deepEqual(event!.rules, [{ template: 'latestPushedK', params: { latestPushedK: 1 }, repositories: RULES[0]!.repositories, tags: RULES[0]!.tags, untagged: false }]);
  });

  it('stops a pending execution at once and a running one through stopping, one event each', async () => {
    const pending = await retention.store.createExecution({ project: 'gamma', trigger: 'scheduled', dryRun: true, rules: RULES, startedBy: undefined });
    await assert.rejects(retention.runner.start('gamma', { trigger: 'manual', dryRun: true, rules: RULES, by: 'mona' }, true), (err: Error) => err.name === 'ExecutionActiveError' && /in progress/.test(err.message), 'one execution per project at a time');
    assert.equal((await retention.runner.stop(pending.id))?.status, 'stopped');
    const running = await retention.store.createExecution({ project: 'gamma', trigger: 'manual', dryRun: true, rules: RULES, startedBy: 'mona' });
    assert.equal(await retention.store.transition(running.id, 'running', ['pending']), true);
    assert.equal((await retention.runner.stop(running.id))?.status, 'stopping');
    await push(content, 'gamma/app', 'v1', 'gamma\n');
    await retention.runner.execute(running.id, new AbortController().signal);
    const stopped = await retention.store.getExecution(running.id);
    assert.equal(stopped?.status, 'stopped');
    assert.match(stopped!.statusText, /^stopped: /);
    assert.equal(await retention.store.transition(running.id, 'running', ['pending', 'running']), false, 'final stays final');
    const gamma = [await eventOf(pending.id), await eventOf(running.id)];
    assert.deepEqual(gamma.map((e) => [e.project, e.status, e.trigger]), [['gamma', 'stopped', 'scheduled'], ['gamma', 'stopped', 'manual']]);
    assert.equal(received.filter((e) => e.project === 'gamma').length, 2, 'one event each');
  });

  it('keeps the newest finished executions of a project', async () => {
    for (let i = 0; i < 4; i++) await retention.runner.start('delta', { trigger: 'manual', dryRun: true, rules: RULES, by: undefined }, true);
    const { items, total } = await retention.store.listExecutions('delta', { page: 1, pageSize: 10 });
    assert.equal(total, 3);
    assert.ok(items[0]!.id > items[2]!.id, 'newest first');
  });
});
