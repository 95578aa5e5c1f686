import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WebhookEvent } from '@wharf/sdk';
import { cloudEvent, renderBody } from './formats.js';
import { signingHeaders, verifySignature } from './signing.js';
import { slackMessage } from './targets/slack.js';
import { createTargetRegistry } from './targets/registry.js';
import { postJson } from './targets/http-send.js';
import { DEFAULT_DENIED_NETWORKS, NetworkGuard } from './targets/network-guard.js';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { backoff, errorText } from './worker.js';
import { SubscribedProjects } from './pull-filter.js';
import { timeOrderedId } from './delivery-store.js';

const EVENT: WebhookEvent = {
  deliveryId: '6f1c1b0e-8a4f-4c6e-9a55-1f0e7a3c2b10',
  payload: { type: 'PUSH_ARTIFACT', occur_at: 1_700_000_000, operator: 'alice', event_data: { resources: [{ digest: 'sha256:ab', tag: 'v1', resource_url: 'r.example/p/a:v1' }] } },
  cloudEventType: 'harbor.artifact.pushed',
  source: '/projects/p/webhook/policies/3',
  requestId: 'req-1',
  policyName: 'ci',
};

describe('webhooks: signing, formats, secrets', () => {
  it('signs t.body with HMAC-SHA256; a receiver rejects another secret, body, or an old timestamp', () => {
    const now = 1_700_000_000_000;
    const h = signingHeaders('whsec_x', 'id-1', '{"a":1}', now);
    assert.equal(h['Webhook-Id'], 'id-1');
    assert.equal(h['Webhook-Timestamp'], '1700000000');
    assert.match(h['Webhook-Signature']!, /^t=1700000000,v1=[0-9a-f]{64}$/);
    assert.ok(verifySignature('whsec_x', h['Webhook-Signature'], '{"a":1}', 300, now));
    assert.ok(!verifySignature('whsec_y', h['Webhook-Signature'], '{"a":1}', 300, now));
    assert.ok(!verifySignature('whsec_x', h['Webhook-Signature'], '{"a":2}', 300, now));
    assert.ok(!verifySignature('whsec_x', h['Webhook-Signature'], '{"a":1}', 300, now + 301_000), 'replayed too late');
    assert.ok(!verifySignature('whsec_x', 'garbage', '{"a":1}', 300, now));
  });

  it("renders Harbor's payload as is, and CloudEvents 1.0 with the delivery id, source and Harbor's extensions", () => {
    assert.deepEqual(JSON.parse(renderBody('Default', EVENT).body), EVENT.payload);
    const ce = renderBody('CloudEvents', EVENT);
    assert.equal(ce.contentType, 'application/cloudevents+json');
    assert.deepEqual(JSON.parse(ce.body), {
      specversion: '1.0',
      id: EVENT.deliveryId,
      source: '/projects/p/webhook/policies/3',
      type: 'harbor.artifact.pushed',
      datacontenttype: 'application/json',
      time: '2023-11-14T22:13:20.000Z',
      requestid: 'req-1',
      operator: 'alice',
      data: EVENT.payload.event_data,
    });
    assert.equal(cloudEvent({ ...EVENT, requestId: undefined }).requestid, undefined);
  });

  it('builds a Slack message with the payload in a code block', () => {
    const m = slackMessage('PUSH_ARTIFACT', 'ci', EVENT.payload);
    assert.match(m.text, /PUSH_ARTIFACT/);
    assert.equal(m.blocks.length, 2);
    assert.match(JSON.stringify(m.blocks[1]), /sha256:ab/);
  });

  it("keeps a target's address and auth header out of a delivery's error text", () => {
    const address = 'https://hooks.slack.com/services/T0/B0/s3cr3tpath';
    const err = new Error(`request to ${address} failed; header Bearer t0ken rejected`);
    const text = errorText(err, [address, 'Bearer t0ken']);
    assert.ok(!text.includes('s3cr3tpath') && !text.includes('t0ken'), text);
    assert.match(text, /request to \[redacted\] failed/);
  });

  it('backs off exponentially up to the maximum; target kinds are unique and kebab-case', () => {
    const config = { backoffMs: 100, maxBackoffMs: 1000 } as Parameters<typeof backoff>[0];
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoff(config, n)), [100, 200, 400, 800, 1000]);
    const registry = createTargetRegistry();
    assert.deepEqual(registry.types(), ['http', 'slack']);
    assert.throws(() => registry.register({ type: 'http', description: '', deliver: async () => ({ statusCode: 200 }) }), /registered already/);
    assert.throws(() => registry.register({ type: 'Bad Type', description: '', deliver: async () => ({ statusCode: 200 }) }), /kebab-case/);
  });
});

describe('webhooks: the projects with a PULL_ARTIFACT policy, read once per batch of pulls', () => {
  it('reads again only for an event newer than its answer, once for concurrent events, and never trusts an answer older than the event', async () => {
    let clock = 1000;
    let reads = 0;
    let stored = new Set<string>();
    const projects = new SubscribedProjects(async () => {
      reads += 1;
      await new Promise((resolve) => setImmediate(resolve));
      return new Set(stored);
    }, () => clock);
    assert.equal(await projects.mayHave('ci', 900), false);
    assert.equal(reads, 1);
    assert.deepEqual(await Promise.all([projects.mayHave('ci', 950), projects.mayHave('other', 1000)]), [false, false], 'events older than the answer');
    assert.equal(reads, 1, 'no read for events the answer covers');
    // A policy is created, then a pull happens: its event is newer than the answer, so it reads.
    stored = new Set(['ci']);
    clock = 2000;
    assert.deepEqual(await Promise.all([projects.mayHave('ci', 1500), projects.mayHave('ci', 1600), projects.mayHave('other', 1700)]), [true, true, false]);
    assert.equal(reads, 2, 'one read for the batch');
    assert.equal(await projects.mayHave('ci', 5000), true, 'an event from a clock ahead is never filtered');
    assert.equal(reads, 2);
  });

  it('gives delivery rows UUIDv7 ids: unique, and in the order of their time', () => {
    const ids = [1_000, 1_000, 2_000, 1_700_000_000_000].map((t) => timeOrderedId(t));
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(new Set(ids).size, 4, 'two ids of the same millisecond differ');
    assert.ok(ids[1]! < ids[2]! && ids[0]! < ids[2]! && ids[2]! < ids[3]!, 'a later time sorts after');
  });
});

describe('webhooks: networks deliveries never reach', () => {
  it('denies link-local and metadata addresses by default, in every spelling, and allows the rest', () => {
    const guard = new NetworkGuard(DEFAULT_DENIED_NETWORKS);
    for (const ip of ['169.254.169.254', '169.254.0.1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', 'fe80::1', '100.100.100.200', 'fd00:ec2::254']) {
      assert.match(guard.check(ip) ?? '', /may not reach/, ip);
    }
    for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.0.10', '::1', '8.8.8.8', '2001:db8::1']) assert.equal(guard.check(ip), undefined, ip);
    assert.match(guard.checkHost('[fe80::1]') ?? '', /fe80::1/);
    assert.equal(guard.checkHost('hooks.example.com'), undefined, 'names are checked when they are resolved');
    assert.throws(() => new NetworkGuard(['10.0.0.0/33']), /not a network/);
    assert.throws(() => new NetworkGuard(['example.com/8']), /not a network/);
  });

  it('checks the resolved addresses of a name on connect: a receiver on a denied network gets nothing', async () => {
    let requests = 0;
    const receiver = http.createServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const port = (receiver.address() as AddressInfo).port;
    try {
      const target = { address: `http://localhost:${port}/hook`, skipCertVerify: false, caCertPem: undefined };
      const signal = new AbortController().signal;
      const loopbackDenied = new NetworkGuard(['127.0.0.0/8', '::1/128']);
      await assert.rejects(postJson(target, '{}', {}, signal, loopbackDenied), /localhost: address (127\.0\.0\.1|::1) is in a network webhooks may not reach/);
      await assert.rejects(postJson({ ...target, address: `http://127.0.0.1:${port}/hook` }, '{}', {}, signal, loopbackDenied), /may not reach/);
      assert.equal(requests, 0, 'nothing was sent');
      // The default lets a receiver on loopback (a CI server next to the registry) have it.
      assert.equal(await postJson({ ...target, address: `http://127.0.0.1:${port}/hook` }, '{}', {}, signal, new NetworkGuard(DEFAULT_DENIED_NETWORKS)), 200);
      assert.equal(requests, 1);
    } finally {
      receiver.close();
    }
  });
});
