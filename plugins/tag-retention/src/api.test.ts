import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { coreServices, definePlugin, isEventOf, retentionEvents, RegistryError, Type, type EventEnvelope, type RetentionFinishedData } from '@wharf/sdk';
import { createTestDatabase, pullManifest, pushImage, tinyImage, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, assertError, basic, bootRegistry, call, eventually } from './test-support.js';

/**
 * The retention API over real HTTP with real pushes, the db auth and projects RBAC plugins: a
 * policy set and run (dry run, then for real) leaves exactly the tags it should; a gate standing
 * in for immutability refuses one delete, which is logged as protected while the run goes on;
 * every operation allowed and denied per role; bad input gets the error envelope; each finished
 * execution records one durable `retention.execution.finished` event.
 */

const PASSWORD = 'Member-Pass-1';
const finished: EventEnvelope<RetentionFinishedData>[] = [];
/** Digests the stand-in gate protects, as the immutability plugin protects immutable tags. */
const protectedDigests = new Set<string>();
const observer = definePlugin({
  id: 'retention-observer',
  kind: 'extension',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.events.subscribe({
      name: 'retention-test-observer',
      types: [retentionEvents.finished],
      async handle({ event }) {
        if (isEventOf(retentionEvents.finished, event)) finished.push(event);
      },
    });
    ctx.hooks.registry.beforeDelete.tapPromise(ctx.id, async ({ target }) => {
      if (protectedDigests.has(target.digest)) throw new RegistryError('DENIED', `artifact ${target.digest} holds an immutable tag`);
    });
  },
});

describe('tag retention API', () => {
  let db: TestDatabase;
  let registry: TestRegistry;
  let url: string;
  const admin = basic('admin', ADMIN_PASSWORD);
  const as: Record<string, string> = {};
  const api = (method: string, path: string, auth?: string, body?: unknown) => call(url, method, `/api/v1${path}`, { auth, ...(body === undefined ? {} : { body }) });
  const tagsOf = async (repository: string) => ((await (await fetch(`${url}/v2/${repository}/tags/list`, { headers: { authorization: admin } })).json()) as { tags: string[] | null }).tags?.sort() ?? [];
  const policy = {
    rules: [{ template: 'latestPushedK', value: 2, repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'app' }], tags: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }] }],
    cron: '0 3 * * *',
  };
  let lockedDigest: string;
  let untaggedDigest: string;

  async function finish(id: number, who = as.mona): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return eventually(`execution ${id}`, async () => {
      const res = await api('GET', `/projects/team/retention/executions/${id}`, who);
      return ['succeeded', 'failed', 'stopped'].includes(res.body?.status) ? res.body : undefined;
    });
  }

  before(async () => {
    db = await createTestDatabase('sqlite');
    registry = await bootRegistry(db, [observer]);
    url = registry.url;
    for (const name of ['alice', 'mona', 'bob', 'gina', 'olaf']) {
      assert.equal((await api('POST', '/users', admin, { username: name, password: PASSWORD })).status, 201);
      as[name] = basic(name, PASSWORD);
    }
    assert.equal((await api('POST', '/projects', as.alice, { name: 'team' })).status, 201);
    for (const [username, roleId] of [['mona', 4], ['bob', 2], ['gina', 3]] as const) {
      assert.equal((await api('POST', '/projects/team/members', as.alice, { memberUser: { username }, roleId })).status, 201);
    }
    const push = { authorization: as.bob! };
    lockedDigest = (await pushImage(url, 'team/app', 'locked-1', tinyImage({ text: 'locked\n' }), push)).digest;
    protectedDigests.add(lockedDigest);
    const untagged = tinyImage({ text: 'untagged\n' });
    untaggedDigest = (await pushImage(url, 'team/app', untagged.manifest.digest, untagged, push)).digest;
    // One at a time, so push times order them v1 < ... < v5.
    for (const n of [1, 2, 3, 4, 5]) {
      await pushImage(url, 'team/app', `v${n}`, tinyImage({ text: `app v${n}\n` }), push);
      await new Promise((r) => setTimeout(r, 15));
    }
    await pushImage(url, 'team/other', 'v1', tinyImage({ text: 'other\n' }), push);
  });
  after(async () => {
    await registry?.close();
    await db?.drop();
  });

  it('lets Project Admins and Maintainers set and read the policy; others are refused', async () => {
    for (const who of [as.bob, as.gina, as.olaf]) assertError(await api('PUT', '/projects/team/retention', who, policy), 403, 'FORBIDDEN');
    assertError(await api('PUT', '/projects/team/retention', undefined, policy), 401, 'UNAUTHORIZED');
    assertError(await api('GET', '/projects/team/retention', as.alice), 404, 'NOT_FOUND', /has no retention policy/);
    const set = await api('PUT', '/projects/team/retention', as.mona, policy);
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.updatedBy, 'mona');
    assert.deepEqual(set.body.rules, [{ template: 'latestPushedK', value: 2, repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'app' }], tags: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }], untagged: false, disabled: false }]);
    assert.equal(set.body.cron, '0 3 * * *');
    for (const who of [as.alice, as.mona, admin]) assert.equal((await api('GET', '/projects/team/retention', who)).body.project, 'team');
    for (const who of [as.bob, as.gina, as.olaf]) assertError(await api('GET', '/projects/team/retention', who), 403, 'FORBIDDEN');
  });

  it('refuses bad policies with the error envelope', async () => {
    const rule = policy.rules[0]!;
    const bad = async (body: unknown, message: RegExp) => assertError(await api('PUT', '/projects/team/retention', as.alice, body), 400, 'BAD_REQUEST', message);
    await bad({ rules: [{ ...rule, value: undefined }] }, /rules\[0\]\.value: latestPushedK needs a value/);
    await bad({ rules: [{ ...rule, template: 'always' }] }, /"always" takes no value/);
    await bad({ rules: [{ ...rule, tags: [{ kind: 'regex', decoration: 'matches', pattern: 'v(' }] }] }, /rules\[0\]\.tags\[0\]\.pattern: invalid regular expression/);
    await bad({ rules: [{ ...rule, repositories: [{ kind: 'doublestar', decoration: 'matches', pattern: 'app' }] }] }, /repositories/);
    await bad({ rules: [{ ...rule, template: 'keepForever' }] }, /template/);
    await bad({ rules: [rule], cron: '61 * * * *' }, /cron/);
    await bad({ rules: Array.from({ length: 16 }, () => rule) }, /at most 15 rules/);
    assert.equal((await api('GET', '/projects/team/retention', as.alice)).body.cron, '0 3 * * *', 'nothing half-written');
  });

  it('dry run: says what it would delete and why, deletes nothing', async () => {
    for (const who of [as.bob, as.gina, as.olaf]) assertError(await api('POST', '/projects/team/retention/executions', who, { dryRun: true }), 403, 'FORBIDDEN');
    const started = await api('POST', '/projects/team/retention/executions', as.mona, { dryRun: true });
    assert.equal(started.status, 201, started.text);
    assert.equal(started.body.dryRun, true);
    const done = await finish(started.body.id);
    assert.equal(done.status, 'succeeded', done.statusText);
    assert.deepEqual([done.total, done.retained, done.deleted], [7, 2, 5]);
    assert.deepEqual(await tagsOf('team/app'), ['locked-1', 'v1', 'v2', 'v3', 'v4', 'v5']);
    const tasks = await api('GET', `/projects/team/retention/executions/${done.id}/tasks`, as.mona);
    assert.deepEqual(tasks.body.map((t: { repository: string }) => t.repository), ['team/app'], 'team/other is not covered by the rule');
    const log = await api('GET', `/projects/team/retention/executions/${done.id}/tasks/${tasks.body[0].id}/log`, as.alice);
    assert.equal(log.status, 200);
    assert.match(log.text, /\[v5\] retained: kept by rule 1 \(the 2 most recently pushed, tags matches "v\*"\)/);
    assert.match(log.text, /\[v1\] would-delete: selected but not kept by rule 1/);
    assert.match(log.text, /\[locked-1\] would-delete: no rule selects tags locked-1/);
    assert.match(log.text, new RegExp(`${untaggedDigest} \\[\\] would-delete: untagged, and no rule includes untagged artifacts`));
  });

  it('runs for real: exactly the kept tags remain, the protected artifact is kept and logged, the run succeeds', async () => {
    const started = await api('POST', '/projects/team/retention/executions', as.alice, {});
    const done = await finish(started.body.id, as.alice);
    assert.equal(done.status, 'succeeded', done.statusText);
    assert.deepEqual([done.total, done.retained, done.deleted], [7, 3, 4]);
    assert.deepEqual(await tagsOf('team/app'), ['locked-1', 'v4', 'v5']);
    assert.deepEqual(await tagsOf('team/other'), ['v1']);
    assert.equal((await fetch(`${url}/v2/team/app/manifests/${untaggedDigest}`, { method: 'HEAD', headers: { authorization: admin } })).status, 404);
    const [task] = (await api('GET', `/projects/team/retention/executions/${done.id}/tasks`, as.alice)).body;
    assert.deepEqual([task.status, task.total, task.retained, task.deleted], ['succeeded', 7, 3, 4]);
    const log = await api('GET', `/projects/team/retention/executions/${done.id}/tasks/${task.id}/log`, as.mona);
    assert.match(log.text, new RegExp(`${lockedDigest} \\[locked-1\\] protected: kept: protected \\(artifact ${lockedDigest} holds an immutable tag\\)`));
    assert.match(log.text, /\[v2\] deleted: selected but not kept by rule 1/);
  });

  it('lists and reads executions and tasks per role; a finished execution cannot be stopped', async () => {
    const list = await api('GET', '/projects/team/retention/executions', as.mona);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((e: { dryRun: boolean }) => e.dryRun), [false, true], 'newest first');
    for (const who of [as.bob, as.gina, as.olaf]) {
      assertError(await api('GET', '/projects/team/retention/executions', who), 403, 'FORBIDDEN');
      assertError(await api('GET', `/projects/team/retention/executions/${list.body[0].id}`, who), 403, 'FORBIDDEN');
      assertError(await api('POST', `/projects/team/retention/executions/${list.body[0].id}/stop`, who), 403, 'FORBIDDEN');
      assertError(await api('GET', `/projects/team/retention/executions/${list.body[0].id}/tasks`, who), 403, 'FORBIDDEN');
      assertError(await api('GET', `/projects/team/retention/executions/${list.body[0].id}/tasks/1/log`, who), 403, 'FORBIDDEN');
    }
    assertError(await api('GET', '/projects/team/retention/executions', undefined), 401, 'UNAUTHORIZED');
    assert.equal((await api('GET', `/projects/team/retention/executions/${list.body[0].id}/tasks`, admin)).status, 200);
    assertError(await api('POST', `/projects/team/retention/executions/${list.body[0].id}/stop`, as.mona), 409, 'CONFLICT', /already succeeded/);
    assertError(await api('GET', '/projects/team/retention/executions/9999', as.mona), 404, 'NOT_FOUND');
    assertError(await api('GET', `/projects/team/retention/executions/${list.body[0].id}/tasks/9999`, as.mona), 404, 'NOT_FOUND');
    assertError(await api('GET', '/projects/team/retention/executions/abc', as.mona), 400, 'BAD_REQUEST');
  });

  it('records one durable retention.execution.finished event per execution', async () => {
    await eventually('two events', () => (finished.length >= 2 ? true : undefined));
    assert.equal(finished.length, 2);
    const [dry, real] = finished.map((e) => e.data);
    assert.equal(finished[0]!.partition, 'retention:team');
    assert.deepEqual([dry!.dryRun, dry!.deleted, real!.dryRun, real!.deleted, real!.retained, real!.status], [true, 5, false, 4, 3, 'succeeded']);
    assert.deepEqual(real!.deletedArtifacts.map((a) => a.tags.join(',')).sort(), ['', 'v1', 'v2', 'v3']);
    assert.equal(finished[1]!.actor?.subject, 'alice');
  });

  it('runs nothing without a policy; only Project Admins and Maintainers delete it', async () => {
    assertError(await api('DELETE', '/projects/team/retention', as.bob), 403, 'FORBIDDEN');
    assert.equal((await api('DELETE', '/projects/team/retention', as.mona)).status, 204);
    assertError(await api('DELETE', '/projects/team/retention', as.mona), 404, 'NOT_FOUND');
    assertError(await api('POST', '/projects/team/retention/executions', as.mona, { dryRun: true }), 412, 'PRECONDITION_FAILED', /no retention policy/);
  });

  it("removes a deleted project's policy, so a project created again under its name starts without one", async () => {
    assert.equal((await api('POST', '/projects', as.alice, { name: 'brief' })).status, 201);
    assert.equal((await api('PUT', '/projects/brief/retention', as.alice, policy)).status, 200);
    const deleted = await api('DELETE', '/projects/brief', as.alice);
    assert.ok([200, 204].includes(deleted.status), deleted.text);
    await eventually('the policy to go', async () => ((await api('GET', '/projects/brief/retention', admin)).status === 404 ? true : undefined));
  });

  it('keeps the most recently pulled by the pull times the registry records in batches', async () => {
    const push = { authorization: as.bob! };
    for (const tag of ['p1', 'p2', 'p3']) {
      await pushImage(url, 'team/pulled', tag, tinyImage({ text: `pulled ${tag}\n` }), push);
      await new Promise((r) => setTimeout(r, 15));
    }
    await pullManifest(url, 'team/pulled', 'p1', push);
    const artifacts = registry.get(coreServices.artifacts);
    await eventually('the pull time of p1', async () => (await artifacts.getArtifact('team/pulled', 'p1'))?.pulledAt);
    const rule = (template: string, pattern: string) => ({ template, value: 1, repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'pulled' }], tags: [{ kind: 'doublestar', decoration: 'matches', pattern }] });
    assert.equal((await api('PUT', '/projects/team/retention', as.alice, { rules: [rule('latestPulledN', '**')] })).status, 200);
    const done = await finish((await api('POST', '/projects/team/retention/executions', as.alice, {})).body.id, as.alice);
    assert.equal(done.status, 'succeeded', done.statusText);
    assert.deepEqual(await tagsOf('team/pulled'), ['p1'], 'p2 and p3 were never pulled');
    assert.deepEqual(await tagsOf('team/other'), ['v1'], 'not covered');
  });

  it('runs on its cron schedule through the jobs service until the policy goes', async () => {
    const always = { template: 'always', repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }], tags: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }], untagged: true };
    assert.equal((await api('PUT', '/projects/team/retention', as.mona, { rules: [always], cron: '* * * * * *' })).status, 200);
    const scheduled = await eventually('a scheduled execution', async () => {
      const list = (await api('GET', '/projects/team/retention/executions', as.mona)).body as { trigger: string; status: string; id: number }[];
      return list.find((e) => e.trigger === 'scheduled' && e.status === 'succeeded');
    });
    assert.equal((await finish(scheduled.id)).deleted, 0, 'always keeps everything');
    assert.equal((await api('DELETE', '/projects/team/retention', as.mona)).status, 204);
    await new Promise((r) => setTimeout(r, 300));
    const newest = async () => Number((await api('GET', '/projects/team/retention/executions', as.mona)).body[0].id);
    const before = await newest();
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal(await newest(), before, 'no run after the policy was deleted');
  });
});
