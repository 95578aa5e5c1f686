import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { webhooksPlugin, webhooksServiceRef, verifySignature } from '@wharf/plugin-webhooks';
import { coreServices, webhookTargetsServiceRef } from '@wharf/sdk';
import { pushImage, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { webhookTeamsPlugin } from './index.js';

// The example target kind on a real registry: the webhooks plugin knows `teams` once this plugin
// is loaded, and a push reaches a (fake Teams) HTTP receiver as a MessageCard.

let registry: TestRegistry;
let receiver: http.Server;
const cards: { body: string; signature: string }[] = [];

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      cards.push({ body: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers['webhook-signature']) });
      res.end('1');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  registry = await startTestRegistry({ plugins: [webhooksPlugin, webhookTeamsPlugin], config: { events: { pollIntervalMs: 50 } } });
});
after(async () => {
  await registry?.close();
  receiver?.close();
});

it('registers the teams kind, and a push arrives as a MessageCard', async () => {
  assert.deepEqual(registry.get(webhookTargetsServiceRef).types(), ['http', 'slack', 'teams']);
  const svc = registry.get(webhooksServiceRef);
  const secret = 'whsec_example';
  const policy = await svc.policies.create(
    'team',
    {
      name: 'to-teams', description: '', enabled: true, eventTypes: ['PUSH_ARTIFACT'],
      targets: [{ type: 'teams', address: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/teams`, skipCertVerify: false, payloadFormat: 'Default' }],
    },
    svc.box.seal(secret, 'policy-secret'),
    'example',
  );
  await pushImage(registry.url, 'team/app', 'v1', tinyImage());
  const deadline = Date.now() + 20_000;
  while (cards.length === 0 && Date.now() < deadline) await sleep(25);
  assert.equal(cards.length, 1);
  const card = JSON.parse(cards[0]!.body);
  assert.equal(card['@type'], 'MessageCard');
  assert.equal(card.title, 'Wharf: PUSH_ARTIFACT');
  assert.ok(card.sections[0].facts.some((f: { name: string; value: string }) => f.name === 'Resource' && f.value.endsWith('/team/app:v1')));
  assert.ok(verifySignature(secret, cards[0]!.signature, cards[0]!.body));
  assert.equal(policy.targets[0]!.type, 'teams');
});

it('contributes a project summary panel, built as a browser module', async () => {
  const [panel] = registry.get(coreServices.uiContributions).list().filter((c) => c.plugin === 'webhook-teams');
  assert.ok(panel, 'the contribution is registered');
  assert.deepEqual(panel.slots.map((s) => [s.slot, s.id]), [['project-summary', 'teams']]);
  // The module is importable as it is served (no Node APIs at load time) and exports mount.
  const module = (await import(new URL(panel.module, `file://${panel.directory}/`).href)) as { mount?: unknown };
  assert.equal(typeof module.mount, 'function');
});
