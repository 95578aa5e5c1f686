import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { coreServices, retentionEvents } from '@wharf/sdk';
import { pullManifest, pushImage, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { replicationStatusChanged, webhooksPlugin } from './index.js';
import { webhookSecretBox } from './secret-box.js';
import { webhooksServiceRef, type WebhooksService } from './services.js';
import { verifySignature } from './signing.js';
import { createPolicy, eventually, Receiver } from './test-support.js';

// Deliveries against real HTTP receivers on a real registry (SQLite): what a receiver sees,
// signatures it can check, retries, a receiver down then up, and a policy whose receiver is
// down not holding up another's. Short backoff settings stand in for minutes.

// Eight attempts span about 3.5 s: long enough for a receiver to be down while three images are pushed.
const DELIVERY = { backoffMs: 50, maxBackoffMs: 1000, pollIntervalMs: 50, maxAttempts: 8, timeoutMs: 1000, leaseSeconds: 5 };

describe('webhook deliveries (SQLite, real receivers)', () => {
  let registry: TestRegistry;
  let svc: WebhooksService;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await Receiver.start();
    receivers.push(r);
    return r;
  };

  before(async () => {
    registry = await startTestRegistry({
      plugins: [webhooksPlugin],
      config: { events: { pollIntervalMs: 50 }, extensions: { webhooks: { delivery: DELIVERY } } },
    });
    svc = registry.get(webhooksServiceRef);
  });
  after(async () => {
    await registry?.close();
    for (const r of receivers) await r.close();
  });

  it("seals secrets with the deployment's secret service, each kind in its own context", () => {
    const box = webhookSecretBox(registry.get(coreServices.secrets));
    const sealed = box.seal('Bearer t0ken', 'auth-header');
    assert.ok(!sealed.includes('t0ken'));
    assert.equal(box.open(sealed, 'auth-header'), 'Bearer t0ken');
    assert.throws(() => box.open(sealed, 'policy-secret'), (err: Error) => !err.message.includes('t0ken'));
    assert.throws(() => registry.get(coreServices.secrets).decrypt(sealed, 'auth-header'), 'the plugin scopes its contexts');
  });

  it('delivers a push in Harbor\'s format and as a CloudEvent, signed, with the auth header', async () => {
    const plain = await receiver();
    const ce = await receiver();
    const { policy, secret } = await createPolicy(svc, 'alpha', {
      targets: [
        { address: plain.url, authHeader: 'Bearer receiver-token' },
        { address: ce.url, payloadFormat: 'CloudEvents' },
      ],
    });
    const pushed = await pushImage(registry.url, 'alpha/app', 'v1', tinyImage({ text: 'alpha' }));

    const [got] = await plain.waitFor(1);
    assert.equal(got!.headers['content-type'], 'application/json');
    assert.equal(got!.headers['authorization'], 'Bearer receiver-token');
    assert.ok(verifySignature(secret, got!.headers['webhook-signature'] as string, got!.body), 'signature verifies with the policy secret');
    assert.ok(!verifySignature(secret, got!.headers['webhook-signature'] as string, got!.body.replace('alpha', 'alphb')), 'a changed body does not verify');
    assert.match(String(got!.headers['webhook-id']), /^[0-9a-f-]{36}$/);
    const p = got!.json;
    assert.equal(p.type, 'PUSH_ARTIFACT');
    assert.equal(typeof p.occur_at, 'number');
    assert.equal(p.operator, 'anonymous');
    assert.equal(p.event_data.resources.length, 1);
    assert.equal(p.event_data.resources[0].digest, pushed.digest);
    assert.equal(p.event_data.resources[0].tag, 'v1');
    // `<public host>/<repository>:<tag>` (the host of the registry's public URL).
    assert.match(p.event_data.resources[0].resource_url, /^127\.0\.0\.1:\d+\/alpha\/app:v1$/);
    assert.deepEqual(p.event_data.repository, { name: 'app', namespace: 'alpha', repo_full_name: 'alpha/app', repo_type: 'private' });

    const [cloud] = await ce.waitFor(1);
    assert.equal(cloud!.headers['content-type'], 'application/cloudevents+json');
    assert.equal(cloud!.headers['authorization'], undefined);
    const e = cloud!.json;
    assert.equal(e.specversion, '1.0');
    assert.equal(e.type, 'harbor.artifact.pushed');
    assert.equal(e.id, cloud!.headers['webhook-id'], 'the CloudEvents id is the delivery id');
    assert.equal(e.source, `/projects/alpha/webhook/policies/${policy.id}`);
    assert.equal(e.datacontenttype, 'application/json');
    assert.ok(!Number.isNaN(Date.parse(e.time)));
    assert.deepEqual(e.data.resources[0].digest, pushed.digest);
    assert.ok(verifySignature(secret, cloud!.headers['webhook-signature'] as string, cloud!.body));

    await eventually(async () => (await svc.deliveries.list(policy.id, { page: 1, pageSize: 10 })).items.every((d) => d.status === 'succeeded'), 5000, 'history');
    const history = (await svc.deliveries.list(policy.id, { page: 1, pageSize: 10 })).items;
    assert.equal(history.length, 2);
    for (const d of history) {
      assert.equal(d.attempts, 1);
      assert.equal(d.responseCode, 200);
      assert.ok(d.durationMs !== undefined && d.durationMs >= 0);
    }
    // Another project's push reaches none of alpha's receivers.
    await pushImage(registry.url, 'other/app', 'v1', tinyImage({ text: 'other' }));
    await pullManifest(registry.url, 'alpha/app', 'v1');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(plain.requests.length, 1, 'pulls and other projects are not subscribed');
  });

  it('sends pulls (with their count), artifact and tag deletes to policies that subscribe to them', async () => {
    const r = await receiver();
    await createPolicy(svc, 'beta', { eventTypes: ['PULL_ARTIFACT', 'DELETE_ARTIFACT', 'DELETE_TAG'], targets: [{ address: r.url }] });
    const pushed = await pushImage(registry.url, 'beta/app', 'v1', tinyImage({ text: 'beta' }));
    await pushImage(registry.url, 'beta/app', 'v2', tinyImage({ text: 'beta' }));
    await pullManifest(registry.url, 'beta/app', 'v1');
    const [pull] = await r.waitFor(1, (x) => x.json?.type === 'PULL_ARTIFACT');
    assert.equal(pull!.json.event_data.resources[0].tag, 'v1');
    assert.equal(pull!.json.event_data.custom_attributes.count, '1');
    assert.equal((await fetch(`${registry.url}/v2/beta/app/manifests/v2`, { method: 'DELETE' })).status, 202);
    const [tagDeleted] = await r.waitFor(1, (x) => x.json?.type === 'DELETE_TAG');
    assert.equal(tagDeleted!.json.event_data.resources[0].tag, 'v2');
    assert.equal((await fetch(`${registry.url}/v2/beta/app/manifests/${pushed.digest}`, { method: 'DELETE' })).status, 202);
    const [deleted] = await r.waitFor(1, (x) => x.json?.type === 'DELETE_ARTIFACT');
    assert.equal(deleted!.json.event_data.resources[0].digest, pushed.digest);
    assert.equal(r.requests.filter((x) => x.json?.type === 'PUSH_ARTIFACT').length, 0);
  });

  it('sends replication status changes to the policies of the event\'s project', async () => {
    const r = await receiver();
    await createPolicy(svc, 'zeta', { eventTypes: ['REPLICATION'], targets: [{ address: r.url, payloadFormat: 'CloudEvents' }] });
    await registry.get(coreServices.events).publish({
      type: replicationStatusChanged,
      partition: 'replication-policy:7',
      data: { policyId: 7, policyName: 'mirror', executionId: 42, status: 'Succeeded', trigger: 'event_based', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:05Z', total: 3, succeeded: 3, failed: 0, project: 'zeta' },
    });
    const [got] = await r.waitFor(1);
    assert.equal(got!.json.type, 'harbor.replication.status.changed');
    assert.equal(got!.json.data.replication.job_status, 'Succeeded');
    assert.equal(got!.json.data.replication.execution_id, 42);
    assert.equal(got!.json.data.replication.trigger_type, 'event_based');
    assert.equal(got!.json.data.replication.execution_timestamp, 1767225600);
    assert.equal(got!.json.data.custom_attributes.succeeded, '3');
  });

  it("sends a real tag retention run's result to the project's policies in Harbor's shape, and no dry run", async () => {
    const r = await receiver();
    await createPolicy(svc, 'eta', { eventTypes: ['TAG_RETENTION'], targets: [{ address: r.url }] });
    const run = (executionId: number, dryRun: boolean) => registry.get(coreServices.events).publish({
      type: retentionEvents.finished,
      partition: 'retention:eta',
      data: {
        project: 'eta', executionId, trigger: 'scheduled', dryRun, status: 'succeeded', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:02Z',
        total: 3, retained: 1, deleted: 2,
        rules: [{ template: 'latestPushedK', params: { latestPushedK: 1 }, repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }], tags: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }], untagged: true }],
        deletedArtifacts: [{ repository: 'eta/app', digest: 'sha256:aa', tags: ['v1', 'v1.0'] }, { repository: 'eta/app', digest: 'sha256:bb', tags: [] }],
      },
    });
    await run(1, true);
    await run(2, false);
    const [got] = await r.waitFor(1);
    assert.equal(got!.json.type, 'TAG_RETENTION');
    const retention = got!.json.event_data.retention;
    assert.deepEqual([retention.total, retention.retained, retention.project_name, retention.result], [3, 1, 'eta', 'Success']);
    assert.deepEqual(retention.deleted_artifact.map((a: { name_tag: string }) => a.name_tag), ['eta/app:v1', 'eta/app:v1.0', 'eta/app@sha256:bb']);
    assert.deepEqual(retention.retention_rule[0].scope_selectors.repository, [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }]);
    assert.equal(retention.retention_rule[0].tag_selectors[0].extras, '{"untagged":true}');
    assert.equal(got!.json.event_data.custom_attributes.execution_id, '2', 'the dry run (1) was not sent');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(r.requests.length, 1);
  });

  it('retries non-2xx answers with the same Webhook-Id, and marks a delivery failed after the last attempt', async () => {
    const flaky = await receiver();
    flaky.respond = (_req, i) => (i < 2 ? 503 : 200);
    const broken = await receiver();
    broken.respond = () => 500;
    const { policy } = await createPolicy(svc, 'gamma', { targets: [{ address: flaky.url }] });
    const { policy: brokenPolicy } = await createPolicy(svc, 'gamma', { targets: [{ address: broken.url }] });
    await pushImage(registry.url, 'gamma/app', 'v1', tinyImage({ text: 'gamma' }));
    const tries = await flaky.waitFor(3);
    assert.equal(new Set(tries.map((t) => t.headers['webhook-id'])).size, 1, 'one delivery id across retries');
    await broken.waitFor(DELIVERY.maxAttempts);
    await eventually(async () => (await svc.deliveries.list(brokenPolicy.id, { page: 1, pageSize: 5 })).items[0]?.status === 'failed', 5000, 'failed');
    const [failed] = (await svc.deliveries.list(brokenPolicy.id, { page: 1, pageSize: 5 })).items;
    assert.equal(failed!.attempts, DELIVERY.maxAttempts);
    assert.equal(failed!.responseCode, 500);
    assert.equal(failed!.lastError, 'receiver answered 500');
    const [ok] = (await svc.deliveries.list(policy.id, { page: 1, pageSize: 5 })).items;
    assert.equal(ok!.status, 'succeeded');
    assert.equal(ok!.attempts, 3);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(broken.requests.length, DELIVERY.maxAttempts, 'no attempt after the last');
  });

  it('a receiver that is down gets every event once it is back, and holds up no other policy', async () => {
    const down = await receiver();
    const healthy = await receiver();
    await down.close();
    await createPolicy(svc, 'delta', { targets: [{ address: down.url }] });
    await createPolicy(svc, 'delta', { targets: [{ address: healthy.url }] });
    for (let i = 0; i < 3; i++) await pushImage(registry.url, 'delta/app', `v${i}`, tinyImage({ text: `delta ${i}` }));
    // The healthy receiver gets all three while the other is still down.
    await healthy.waitFor(3, undefined, 5000);
    assert.equal(down.requests.length, 0);
    await down.reopen();
    const arrived = await down.waitFor(3);
    assert.deepEqual(new Set(arrived.map((a) => a.json.event_data.resources[0].tag)), new Set(['v0', 'v1', 'v2']));
  });

  it("a slow receiver's backlog does not hold up another project's policy (events queued behind it)", async () => {
    const slow = await receiver();
    slow.delayMs = 700;
    const fast = await receiver();
    await createPolicy(svc, 'zeta-slow', { targets: [{ address: slow.url }] });
    await createPolicy(svc, 'zeta-fast', { targets: [{ address: fast.url }] });
    // Twelve events for the slow receiver: four in flight at a time (perPolicyConcurrency), 2 s of work.
    for (let i = 0; i < 12; i++) await pushImage(registry.url, 'zeta-slow/app', `v${i}`, tinyImage({ text: `zeta slow ${i}` }));
    const started = Date.now();
    for (let i = 0; i < 3; i++) await pushImage(registry.url, 'zeta-fast/app', `v${i}`, tinyImage({ text: `zeta fast ${i}` }));
    await fast.waitFor(3, undefined, 5000);
    assert.ok(slow.requests.length < 12, `the fast policy was served while the slow one had ${12 - slow.requests.length} of its 12 left`);
    assert.ok(Date.now() - started < 1500, `the fast policy waited ${Date.now() - started} ms`);
    await slow.waitFor(12, undefined, 10_000);
  });

  it('trims the history by count, keeping pending deliveries', async () => {
    const r = await receiver();
    const { policy } = await createPolicy(svc, 'epsilon', { targets: [{ address: r.url }] });
    for (let i = 0; i < 4; i++) await pushImage(registry.url, 'epsilon/app', `v${i}`, tinyImage({ text: `eps ${i}` }));
    await r.waitFor(4);
    await eventually(async () => (await svc.deliveries.list(policy.id, { page: 1, pageSize: 10 }, 'succeeded')).total === 4, 5000, 'four succeeded');
    const removed = await svc.deliveries.purge({ maxAgeMs: 3_600_000, maxPerPolicy: 2 });
    assert.ok(removed >= 2);
    const left = await svc.deliveries.list(policy.id, { page: 1, pageSize: 10 });
    assert.equal(left.total, 2);
    // By age: everything finished goes.
    await svc.deliveries.purge({ maxAgeMs: 0, maxPerPolicy: 1000 }, Date.now() + 1);
    assert.equal((await svc.deliveries.list(policy.id, { page: 1, pageSize: 10 })).total, 0);
  });
});
