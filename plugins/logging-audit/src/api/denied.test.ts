import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { definePlugin, RegistryError, Type, type Principal } from '@wharf/sdk';
import { basicAuth, forEachDatabase, startTestRegistry, type TestRegistry } from '@wharf/sdk-testing';
import { auditPlugin } from '../index.js';
import { until } from '../test-support.js';

/**
 * Refused access in the audit log (result `denied`), over real HTTP on each database: a 403 and
 * an anonymous 401 on /api/v1, a bad Bearer token on /v2/, a scope the token service did not
 * grant; what is not recorded (allowed requests, the anonymous /v2/ challenge, a failed Basic
 * login, which is a login failure); and a burst of refusals recorded as one entry plus one
 * aggregated entry with the count, not one row each.
 */

const ADMIN_PASSWORD = 'Admin-Passw0rd';
const PASSWORD = 'Member-Pass-1';
const basic = basicAuth;
const admin = basic('admin', ADMIN_PASSWORD);

const directory = definePlugin({
  id: 'directory',
  kind: 'auth',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials): Promise<Principal | undefined> => {
      if (credentials.kind !== 'basic' || credentials.username !== 'bob') return undefined;
      if (credentials.password !== PASSWORD) throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
      return { subject: 'bob', kind: 'user', provider: ctx.id, groups: [], admin: false };
    });
  },
});

forEachDatabase((name, create) => {
  let registry: TestRegistry;

  async function call(path: string, auth: string | undefined, ip: string): Promise<number> {
    const res = await fetch(`${registry.url}${path}`, { headers: { 'x-forwarded-for': ip, ...(auth ? { authorization: auth } : {}) } });
    await res.arrayBuffer();
    return res.status;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function denied(): Promise<any[]> {
    const res = await fetch(`${registry.url}/api/v1/audit-logs?result=denied&limit=100`, { headers: { authorization: admin, 'x-forwarded-for': '192.0.2.1' } });
    assert.equal(res.status, 200);
    return ((await res.json()) as { items: unknown[] }).items;
  }

  before(async () => {
    const db = await create();
    const saved = process.env.WHARF_ADMIN_PASSWORD;
    process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
    try {
      registry = await startTestRegistry({
        config: {
          database: { ...db.config },
          auth: [{ directory: {} }, { db: {} }],
          token: { enabled: true },
          rbac: { projects: {} },
          server: { trustProxy: true },
          events: { pollIntervalMs: 50 },
          log: { deniedAccess: { windowSeconds: 1 } },
          logging: { audit: { purge: { schedule: null } } },
        },
        plugins: [auditPlugin, directory],
      });
    } finally {
      if (saved === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
      else process.env.WHARF_ADMIN_PASSWORD = saved;
    }
  });
  after(() => registry?.close());

  it(`${name}: refusals are recorded as denied, allowed requests and challenges are not, a burst is aggregated`, async () => {
    const bob = basic('bob', PASSWORD);
    // Allowed: nothing denied.
    assert.equal(await call('/api/v1/users/current', bob, '198.51.100.1'), 200);
    assert.equal(await call('/api/v1/audit-logs', admin, '198.51.100.1'), 200);
    // Not recorded as refused access: the anonymous /v2/ challenge and a failed Basic login.
    assert.equal(await call('/v2/', undefined, '198.51.100.2'), 401);
    assert.equal(await call('/api/v1/users/current', basic('bob', 'wrong'), '198.51.100.3'), 401);
    // Refused: bob is no system admin (5 times from one address), anonymous on /api/v1, a forged token on /v2/.
    for (let i = 0; i < 5; i++) assert.equal(await call('/api/v1/audit-logs', bob, '198.51.100.4'), 403);
    assert.equal(await call('/api/v1/audit-logs', undefined, '198.51.100.5'), 401);
    assert.equal(await call('/v2/team/app/manifests/v1', 'Bearer not.a.token', '198.51.100.6'), 401);
    // The token service leaves out a scope bob may not have: the token comes, the refusal is recorded.
    assert.equal(await call('/service/token?scope=repository:secret/app:push,pull', bob, '198.51.100.7'), 200);

    const items = await until('the denied entries', async () => {
      const all = await denied();
      return all.some((e) => e.count === 4) && all.length >= 5 ? all : undefined;
    });
    for (const e of items) {
      assert.equal(e.result, 'denied');
      assert.equal(e.operation, 'access');
    }
    const byAddress = (ip: string) => items.filter((e) => e.clientAddress === ip);
    assert.deepEqual(byAddress('198.51.100.1'), [], 'allowed requests are not refusals');
    assert.deepEqual(byAddress('198.51.100.2'), [], 'the anonymous challenge on /v2/ is not recorded');
    assert.deepEqual(byAddress('198.51.100.3'), [], 'a failed Basic login is a login failure, not refused access');

    // Five refusals: the first at once, the other four as one aggregated entry.
    const burst = byAddress('198.51.100.4');
    assert.deepEqual(burst.map((e) => e.count).sort(), [1, 4]);
    for (const e of burst) {
      assert.equal(e.actor, 'bob');
      assert.equal(e.actorProvider, 'directory');
      assert.equal(e.resourceType, 'api');
      assert.equal(e.resource, '/api/v1/audit-logs');
      assert.equal(e.detail.status, 403);
      assert.match(e.detail.request, /^GET \/api\/v1\/audit-logs$/);
    }
    assert.equal(burst.find((e) => e.count === 4)?.detail.aggregated, true);

    const anonymous = byAddress('198.51.100.5');
    assert.equal(anonymous.length, 1);
    assert.ok(anonymous[0].actor === null || anonymous[0].actor === 'anonymous', anonymous[0].actor);
    assert.equal(anonymous[0].detail.status, 401);

    const forged = byAddress('198.51.100.6');
    assert.equal(forged.length, 1);
    assert.deepEqual([forged[0].resourceType, forged[0].resource, forged[0].project, forged[0].detail.via], ['repository', 'team/app', 'team', 'v2']);

    const token = byAddress('198.51.100.7');
    assert.ok(token.length >= 1, JSON.stringify(items));
    assert.deepEqual([token[0].actor, token[0].resource, token[0].project, token[0].detail.via], ['bob', 'secret/app', 'secret', 'token']);
    assert.match(token[0].detail.request, /^token repository:(push|pull)$/);
  });
});
