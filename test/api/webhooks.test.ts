import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifySignature } from '@wharf/plugin-webhooks';
import { ADMIN_PASSWORD, assertEnvelope, basic, call, startApiRegistry, type ApiRegistry } from './support/api-kit.js';

/**
 * The webhook policies API on the default distribution's config (the webhooks plugin is loaded
 * without being named), with projects RBAC and db users: who may manage policies (Project Admin,
 * Maintainer and system administrators; not Developer, Guest, a non-member or anonymous), bad
 * input answered with the error envelope, the secret shown once, auth headers never shown, and a
 * test delivery reaching a real receiver, signed.
 */

const PASSWORD = 'Member-Passw0rd-1';
const ADMIN = basic('admin', ADMIN_PASSWORD);
const ROLES = { projadmin: 1, maintainer: 4, developer: 2, guest: 3 } as const;
const as = (user: string) => basic(user, PASSWORD);

describe('webhook policies API (SQLite)', () => {
  let reg: ApiRegistry;
  let url: string;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];

  const base = '/api/v1/projects/hooks/webhook/policies';
  const policy = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    event_types: ['PUSH_ARTIFACT'],
    targets: [{ type: 'http', address: receiverUrl, auth_header: 'Bearer never-shown' }],
    ...extra,
  });

  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    reg = await startApiRegistry('sqlite', { overrides: { rbac: { projects: {} }, events: { pollIntervalMs: 50 } } });
    url = reg.url;
    for (const user of [...Object.keys(ROLES), 'outsider']) {
      assert.equal((await call(url, 'POST', '/api/v1/users', { auth: ADMIN, body: { username: user, password: PASSWORD } })).status, 201);
    }
    assert.equal((await call(url, 'POST', '/api/v1/projects', { auth: ADMIN, body: { name: 'hooks' } })).status, 201);
    for (const [user, roleId] of Object.entries(ROLES)) {
      const m = await call(url, 'POST', '/api/v1/projects/hooks/members', { auth: ADMIN, body: { memberUser: { username: user }, roleId } });
      assert.equal(m.status, 201, m.text);
    }
  });
  after(async () => {
    await reg?.close();
    receiver?.close();
  });

  it('Project Admin, Maintainer and the administrator manage policies; Developer, Guest, outsiders and anonymous may not', async () => {
    for (const [who, auth] of [['projadmin', as('projadmin')], ['maintainer', as('maintainer')], ['admin', ADMIN]] as const) {
      const created = await call(url, 'POST', base, { auth, body: policy(`by-${who}`) });
      assert.equal(created.status, 201, `${who}: ${created.text}`);
      const id = created.body.policy.id as number;
      assert.equal((await call(url, 'GET', `${base}/${id}`, { auth })).status, 200, who);
      assert.equal((await call(url, 'GET', base, { auth })).status, 200, who);
      const updated = await call(url, 'PUT', `${base}/${id}`, { auth, body: policy(`by-${who}`, { enabled: false, description: 'changed' }) });
      assert.equal(updated.status, 200, `${who}: ${updated.text}`);
      assert.equal(updated.body.enabled, false);
      assert.equal(updated.body.targets[0].has_auth_header, true, 'an omitted auth header... was given here, so it is set');
      assert.equal((await call(url, 'DELETE', `${base}/${id}`, { auth })).status, 204, who);
    }
    const kept = await call(url, 'POST', base, { auth: ADMIN, body: policy('kept') });
    const id = kept.body.policy.id as number;
    for (const user of ['developer', 'guest']) {
      for (const [method, path, body] of [['GET', base], ['POST', base, policy(`by-${user}`)], ['GET', `${base}/${id}`], ['PUT', `${base}/${id}`, policy('x')], ['DELETE', `${base}/${id}`], ['POST', `${base}/${id}/test`]] as const) {
        assertEnvelope(await call(url, method, path, { auth: as(user), ...(body ? { body } : {}) }), 403, 'FORBIDDEN');
      }
    }
    // A non-member does not learn that the project exists; anonymous callers must log in.
    const outsider = await call(url, 'GET', base, { auth: as('outsider') });
    assert.ok([403, 404].includes(outsider.status), outsider.text);
    assertEnvelope(await call(url, 'POST', base, { auth: as('outsider'), body: policy('nope') }), outsider.status, outsider.status === 404 ? 'NOT_FOUND' : 'FORBIDDEN');
    assertEnvelope(await call(url, 'GET', base), 401, 'UNAUTHORIZED');
    assertEnvelope(await call(url, 'POST', base, { body: policy('anon') }), 401, 'UNAUTHORIZED');
    assert.equal((await call(url, 'GET', `${base}/${id}`, { auth: ADMIN })).status, 200, 'refused calls changed nothing');
  });

  it('answers bad input with the error envelope, never a 500', async () => {
    const bad: [unknown, RegExp | undefined][] = [
      [policy('a', { event_types: ['NOT_A_TYPE'] }), /unknown event type/],
      [policy('a', { targets: [{ type: 'carrier-pigeon', address: receiverUrl }] }), /not a webhook target kind/],
      [policy('a', { targets: [{ type: 'http', address: 'not a url' }] }), /not a URL/],
      [policy('a', { targets: [{ type: 'http', address: 'ftp://x/' }] }), /http/],
      [policy('a', { targets: [{ type: 'http', address: 'http://u:p@127.0.0.1/' }] }), /credentials/],
      // Link-local and cloud metadata addresses: no project role may point the registry at them.
      [policy('a', { targets: [{ type: 'http', address: 'http://169.254.169.254/latest/meta-data/' }] }), /169\.254\.169\.254 is in a network webhooks may not reach/],
      [policy('a', { targets: [{ type: 'slack', address: 'http://[fe80::1]/hook' }] }), /fe80::1 is in a network webhooks may not reach/],
      [policy('a', { targets: [{ type: 'http', address: 'http://[::ffff:169.254.1.1]/hook' }] }), /may not reach/],
      [policy('a', { targets: [{ type: 'http', address: receiverUrl, ca_cert_pem: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----' }] }), /PEM/],
      [policy('a', { targets: [] }), undefined],
      [{ name: 'a' }, undefined],
      ['{not json', undefined],
    ];
    for (const [body, message] of bad) assertEnvelope(await call(url, 'POST', base, { auth: ADMIN, body, headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST', message);
    assertEnvelope(await call(url, 'GET', `${base}/abc`, { auth: ADMIN }), 400, 'BAD_REQUEST');
    assertEnvelope(await call(url, 'GET', `${base}/999999`, { auth: ADMIN }), 404, 'NOT_FOUND');
    assert.equal((await call(url, 'POST', base, { auth: ADMIN, body: policy('dup') })).status, 201);
    assertEnvelope(await call(url, 'POST', base, { auth: ADMIN, body: policy('dup') }), 409, 'CONFLICT');
  });

  it('shows the secret once and never the auth header; a test delivery arrives signed', async () => {
    const created = await call(url, 'POST', base, { auth: as('maintainer'), body: policy('tested', { targets: [{ type: 'http', address: receiverUrl, auth_header: 'Bearer never-shown' }] }) });
    assert.equal(created.status, 201, created.text);
    const secret = created.body.secret as string;
    assert.match(secret, /^whsec_/);
    const id = created.body.policy.id as number;
    const read = await call(url, 'GET', `${base}/${id}`, { auth: ADMIN });
    assert.ok(!read.text.includes('never-shown') && !read.text.includes(secret), read.text);
    assert.equal(read.body.targets[0].has_auth_header, true);
    // A PUT that leaves the auth header out keeps it.
    const put = await call(url, 'PUT', `${base}/${id}`, { auth: ADMIN, body: { name: 'tested', event_types: ['PUSH_ARTIFACT', 'REPLICATION'], targets: [{ type: 'http', address: receiverUrl }] } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.targets[0].has_auth_header, true);

    const test = await call(url, 'POST', `${base}/${id}/test`, { auth: as('maintainer') });
    assert.equal(test.status, 202, test.text);
    assert.equal(test.body.deliveries.length, 1);
    const deadline = Date.now() + 10_000;
    while (!received.some((r) => r.headers['webhook-id'] === test.body.deliveries[0]) && Date.now() < deadline) await sleep(25);
    const got = received.find((r) => r.headers['webhook-id'] === test.body.deliveries[0]);
    assert.ok(got, 'the test delivery arrived');
    assert.equal(got.headers['authorization'], 'Bearer never-shown');
    assert.equal(JSON.parse(got.body).type, 'TEST_WEBHOOK');
    assert.ok(verifySignature(secret, got.headers['webhook-signature'] as string, got.body));

    let history = await call(url, 'GET', `${base}/${id}/deliveries`, { auth: as('maintainer') });
    while (history.body[0]?.status !== 'succeeded' && Date.now() < deadline) {
      await sleep(25);
      history = await call(url, 'GET', `${base}/${id}/deliveries`, { auth: as('maintainer') });
    }
    assert.equal(history.status, 200, history.text);
    assert.equal(history.body[0].status, 'succeeded');
    assert.equal(history.body[0].response_code, 200);
    assert.equal(history.body[0].event_type, 'TEST_WEBHOOK');
    assertEnvelope(await call(url, 'GET', `${base}/${id}/deliveries`, { auth: as('developer') }), 403, 'FORBIDDEN');

    const events = await call(url, 'GET', '/api/v1/projects/hooks/webhook/events', { auth: ADMIN });
    assert.deepEqual(events.body.notify_type, ['http', 'slack']);
    assert.ok(events.body.event_type.includes('REPLICATION'));
  });
});
