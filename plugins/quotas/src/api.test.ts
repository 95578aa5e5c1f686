import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { webhooksPlugin } from '@wharf/plugin-webhooks';
import { createTestDatabase, pushImage, tinyImage, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { admin, assertError, basic, bootRegistry, call, eventually, sizedBlob, uploadBlob } from './test-support.js';

/**
 * The quota operations over real HTTP on SQLite with the db auth and projects RBAC plugins:
 * each allowed and denied per role (system administrator, Project Admin, Guest, non-member,
 * anonymous), the configured default for new projects, bad input, and the QUOTA_WARNING and
 * QUOTA_EXCEED webhooks received by a real HTTP receiver.
 */

const PASSWORD = 'Member-Pass-1';
const DELIVERY = { backoffMs: 50, maxBackoffMs: 1000, pollIntervalMs: 50, maxAttempts: 8, timeoutMs: 1000, leaseSeconds: 5 };

describe('quota API and events', () => {
  let db: TestDatabase;
  let registry: TestRegistry;
  let receiver: Server;
  const received: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const as: Record<string, string> = {};
  const api = (method: string, path: string, auth?: string, body?: unknown) => call(registry.url, method, `/api/v1${path}`, { auth, ...(body === undefined ? {} : { body }) });

  before(async () => {
    receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(text));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    db = await createTestDatabase('sqlite');
    registry = await bootRegistry(db, {
      quotas: { defaults: { storage: '1MiB', count: 5 }, warningPercent: 50 },
      extensions: { webhooks: { delivery: DELIVERY } },
      plugins: [webhooksPlugin],
    });
    for (const name of ['alice', 'gina', 'olaf']) {
      assert.equal((await api('POST', '/users', admin, { username: name, password: PASSWORD })).status, 201);
      as[name] = basic(name, PASSWORD);
    }
    assert.equal((await api('POST', '/projects', as.alice, { name: 'team' })).status, 201);
    assert.equal((await api('POST', '/projects/team/members', as.alice, { memberUser: { username: 'gina' }, roleId: 3 })).status, 201);
  });
  after(async () => {
    await registry?.close();
    await db?.drop();
    receiver?.close();
  });

  it('gives a new project the configured default quota, with zero usage', async () => {
    const res = await eventually('the quota row', async () => {
      const r = await api('GET', '/projects/team/quota', admin);
      return r.status === 200 ? r : undefined;
    });
    assert.deepEqual(res.body.hard, { storage: 1024 * 1024, count: 5, repository_storage: -1 });
    assert.deepEqual(res.body.used, { storage: 0, count: 0 });
    assert.equal(res.body.ref.name, 'team');
  });

  it("shows a project's quota to its members and administrators, not to others", async () => {
    for (const who of [admin, as.alice, as.gina]) assert.equal((await api('GET', '/projects/team/quota', who)).status, 200);
    assertError(await api('GET', '/projects/team/quota', as.olaf), 403, 'FORBIDDEN');
    assertError(await api('GET', '/projects/team/quota', undefined), 401, 'UNAUTHORIZED');
  });

  it('lists every quota to system administrators only', async () => {
    const res = await api('GET', '/quotas', admin);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.map((q: { ref: { name: string } }) => q.ref.name), ['team']);
    assert.equal(res.headers.get('x-total-count'), '1');
    for (const who of [as.alice, as.gina, as.olaf]) assertError(await api('GET', '/quotas', who), 403, 'FORBIDDEN');
    assertError(await api('GET', '/quotas', undefined), 401, 'UNAUTHORIZED');
  });

  it('lets system administrators set quotas (sizes with units, -1, one limit at a time); refuses everyone else', async () => {
    for (const who of [as.alice, as.gina, as.olaf]) assertError(await api('PUT', '/projects/team/quota', who, { hard: { storage: -1 } }), 403, 'FORBIDDEN', /system administrators/);
    assertError(await api('PUT', '/projects/team/quota', undefined, { hard: { storage: -1 } }), 401, 'UNAUTHORIZED');
    let res = await api('PUT', '/projects/team/quota', admin, { hard: { storage: '10MiB' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.hard, { storage: 10 * 1024 * 1024, count: 5, repository_storage: -1 });
    res = await api('PUT', '/projects/team/quota', admin, { hard: { count: -1, repository_storage: '1MiB' } });
    assert.deepEqual(res.body.hard, { storage: 10 * 1024 * 1024, count: -1, repository_storage: 1024 * 1024 });
    res = await api('PUT', '/projects/team/quota', admin, { hard: { repository_storage: -1 } });
    assert.deepEqual((await api('GET', '/projects/team/quota', as.gina)).body.hard, { storage: 10 * 1024 * 1024, count: -1, repository_storage: -1 });
  });

  it('refuses bad limits and project names with the error envelope', async () => {
    assertError(await api('PUT', '/projects/team/quota', admin, { hard: { storage: 'lots' } }), 400, 'BAD_REQUEST');
    assertError(await api('PUT', '/projects/team/quota', admin, { hard: { count: -2 } }), 400, 'BAD_REQUEST');
    assertError(await api('PUT', '/projects/team/quota', admin, { hard: { storage: 1, extra: 1 } }), 400, 'BAD_REQUEST');
    assertError(await api('PUT', '/projects/Bad..Name/quota', admin, { hard: { storage: 1 } }), 400, 'BAD_REQUEST');
    // A project that does not exist has no quota to read or set.
    assertError(await api('PUT', '/projects/no-such-project/quota', admin, { hard: { storage: 1 } }), 404, 'NOT_FOUND', /no-such-project/);
    assertError(await api('GET', '/projects/no-such-project/quota', admin), 404, 'NOT_FOUND');
  });

  it('sends QUOTA_WARNING and QUOTA_EXCEED to webhook receivers', async () => {
    const address = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    const policy = await api('POST', '/projects/team/webhook/policies', as.alice, { name: 'quota', event_types: ['QUOTA_WARNING', 'QUOTA_EXCEED'], targets: [{ type: 'http', address }] });
    assert.equal(policy.status, 201, policy.text);
    const image = tinyImage({ text: 'quota events\n' });
    await pushImage(registry.url, 'team/app', 'v1', image, { authorization: as.alice });
    const used = (await api('GET', '/projects/team/quota', admin)).body.used.storage as number;
    // A limit the next 3000-byte blob takes past 50% (warning), then one the blob after cannot fit.
    assert.equal((await api('PUT', '/projects/team/quota', admin, { hard: { storage: used + 4000 } })).status, 200);
    assert.equal((await uploadBlob(registry.url, 'team/app', sizedBlob('w', 3000), as.alice!)).status, 201);
    const refused = await uploadBlob(registry.url, 'team/app', sizedBlob('x', 3000), as.alice!);
    assert.equal(refused.status, 403);
    const warning = await eventually('QUOTA_WARNING', async () => received.find((e) => e.type === 'QUOTA_WARNING'));
    assert.equal(warning.event_data.repository.repo_full_name, 'team/app');
    assert.match(warning.event_data.custom_attributes.Details, /project team storage usage reached 50% of its quota/);
    const exceeded = await eventually('QUOTA_EXCEED', async () => received.find((e) => e.type === 'QUOTA_EXCEED'));
    assert.equal(exceeded.event_data.resources[0].digest, sizedBlob('x', 3000).digest);
    assert.match(exceeded.event_data.custom_attributes.Details, /^project team storage quota .* exceeded: in use .*, this blob 2\.93 KiB$/);
    assert.equal(exceeded.operator, 'alice');
  });
});
