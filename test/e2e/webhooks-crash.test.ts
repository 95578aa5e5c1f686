import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifySignature } from '@wharf/plugin-webhooks';
import { pushImage, tinyImage } from '@wharf/sdk-testing';
import { registryTest } from '../helpers/e2e.js';
import { basicAuth, startWharf, type RegistryHandle, type StartOptions } from '../helpers/server.js';
import { api } from '../helpers/wharf-api.js';

// Nothing acknowledged is lost to kill -9: the wharf binary is killed while a webhook is being
// delivered (the receiver holds the request open) and right after another push's 201, before
// that event could be fanned out. After a restart on the same data dir every event reaches the
// receiver, the interrupted delivery with the same Webhook-Id (receivers deduplicate on it).

// Short leases so the killed node's work is taken over within seconds.
const CONFIG = {
  events: { leaseSeconds: 2, pollIntervalMs: 100 },
  extensions: { webhooks: { delivery: { timeoutMs: 1500, leaseSeconds: 2, pollIntervalMs: 100, backoffMs: 100 } } },
};

interface Got { id: string; signature: string; body: string; tag: string }
const got: Got[] = [];
let hang = true;
let receiver: http.Server;
let receiverUrl: string;
let wharf: RegistryHandle | undefined;
let firstWharf: RegistryHandle | undefined;

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      got.push({ id: String(req.headers['webhook-id']), signature: String(req.headers['webhook-signature']), body, tag: JSON.parse(body).event_data.resources[0].tag });
      // While `hang` is set the request is never answered: the delivery is in flight when wharf dies.
      if (!hang) res.end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  wharf = firstWharf = await startWharf({ config: CONFIG });
});

after(async () => {
  if (wharf !== firstWharf) await wharf?.stop();
  await firstWharf?.stop();
  receiver.closeAllConnections();
  receiver.close();
});

async function killAndRestart(): Promise<void> {
  const current = wharf!;
  await current.kill('SIGKILL');
  assert.equal(current.process.signalCode, 'SIGKILL');
  const options: StartOptions = { config: CONFIG, dataDir: current.dataDir, port: current.port };
  if (current !== firstWharf) await current.stop();
  wharf = await startWharf(options);
}

async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out: ${what}`);
    await sleep(50);
  }
}

registryTest('kill -9 mid-delivery and right after a push: every webhook arrives, the interrupted one with its Webhook-Id', () => wharf, async () => {
  const admin = wharf!.admin!;
  await api(wharf!, 'POST', '/projects', { name: 'hooks' }, { expect: 201 });
  const created = await api(wharf!, 'POST', '/projects/hooks/webhook/policies', { name: 'crash', event_types: ['PUSH_ARTIFACT'], targets: [{ type: 'http', address: receiverUrl }] }, { expect: 201 });
  const { policy, secret } = created.json as { policy: { id: number }; secret: string };
  const auth = { authorization: basicAuth(admin) };

  // One kill covers both moments: v1's delivery is held open by the receiver, and v2's push was
  // acknowledged a moment before, too soon for its event to be fanned out or sent.
  await pushImage(wharf!.url, 'hooks/app', 'v1', tinyImage({ text: 'one' }), auth);
  await waitFor(() => got.some((g) => g.tag === 'v1'), 'first attempt of v1');
  const interrupted = got.find((g) => g.tag === 'v1')!.id;
  await pushImage(wharf!.url, 'hooks/app', 'v2', tinyImage({ text: 'two' }), auth);
  await killAndRestart();
  hang = false;
  await waitFor(() => got.filter((g) => g.tag === 'v1').length >= 2, 'v1 delivered again after the restart');
  assert.deepEqual(new Set(got.filter((g) => g.tag === 'v1').map((g) => g.id)), new Set([interrupted]), 'the same delivery, the same Webhook-Id');
  await waitFor(() => got.some((g) => g.tag === 'v2'), 'v2 delivered after the restart');

  for (const g of got) assert.ok(verifySignature(secret, g.signature, g.body), 'every attempt is signed with the policy secret (the key file survived)');
  const history = await api(wharf!, 'GET', `/projects/hooks/webhook/policies/${policy.id}/deliveries`, undefined, { expect: 200 });
  const rows = history.json as { id: string; status: string; attempts: number }[];
  assert.equal(rows.length, 2, JSON.stringify(rows));
  const first = rows.find((r) => r.id === interrupted)!;
  assert.ok(first.attempts >= 2, `the interrupted delivery was attempted again: ${JSON.stringify(first)}`);
}, { timeout: 180_000 });
