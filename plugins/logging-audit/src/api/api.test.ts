import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { definePlugin, RegistryError, Type, type Principal } from '@wharf/sdk';
import { forEachDatabase, pullManifest, pushImage, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { auditPlugin } from '../index.js';
import { auditServiceRef } from '../service.js';
import { entry, until } from '../test-support.js';

/**
 * The audit log over real HTTP, with the db users and the projects plugin: what a push, a pull,
 * member and project changes and logins record (actor, provider, address, request id), who may
 * read the whole log and a project's (each role, anonymous, a robot: allowed and denied), the
 * filters and their refusals, keyset pages, CSV and JSON exports, and a purge run through the API.
 */

const ADMIN_PASSWORD = 'Admin-Passw0rd';
const PASSWORD = 'Member-Pass-1';
const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
const admin = basic('admin', ADMIN_PASSWORD);
const MEMBERS = ['alice', 'mona', 'bob', 'gina', 'lee'];

/** Stands in for a directory (no password hashing to wait for): the project's members log in here. */
const directory = definePlugin({
  id: 'directory',
  kind: 'auth',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials): Promise<Principal | undefined> => {
      if (credentials.kind !== 'basic' || !MEMBERS.includes(credentials.username)) return undefined;
      if (credentials.password !== PASSWORD) throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
      return { subject: credentials.username, kind: 'user', provider: ctx.id, groups: [], admin: false };
    });
  },
});

interface Res {
  status: number;
  headers: Headers;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

forEachDatabase((_name, create) => {
  let registry: TestRegistry;
  const as: Record<string, string> = {};
  let robot = '';

  let nextAddress = 1;
  // A fresh client address per call: the failed-login slowdown is per address.
  async function api(method: string, path: string, auth?: string, body?: unknown, ip = `203.0.113.${nextAddress++ % 250}`): Promise<Res> {
    const headers: Record<string, string> = { 'x-forwarded-for': ip };
    if (auth) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${registry.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  }
  const refused = (res: Res, status: number, code: string) => {
    assert.equal(res.status, status, res.text);
    assert.equal(res.body?.errors?.[0]?.code, code, res.text);
  };
  /** Every entry the filter matches (following the pages). */
  async function entries(query = '', path = '/audit-logs'): Promise<any[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const out = [];
    let cursor: string | null = null;
    do {
      const res = await api('GET', `${path}?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`, admin);
      assert.equal(res.status, 200, res.text);
      out.push(...res.body.items);
      cursor = res.body.next;
    } while (cursor);
    return out;
  }

  let createdRequestId = '';

  before(async () => {
    const db = await create();
    const before = process.env.WHARF_ADMIN_PASSWORD;
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
          jobs: { pollIntervalMs: 50 },
          logging: { audit: { retention: { default: '90d', pull: '7d' } } },
        },
        plugins: [auditPlugin, directory],
      });
    } finally {
      if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
      else process.env.WHARF_ADMIN_PASSWORD = before;
    }
    for (const name of MEMBERS) as[name] = basic(name, PASSWORD);
    // One user of the db plugin: a non-member, and a `management.user.created` event.
    assert.equal((await api('POST', '/users', admin, { username: 'olaf', password: PASSWORD })).status, 201);
    as.olaf = basic('olaf', PASSWORD);
    const created = await api('POST', '/projects', as.alice, { name: 'team' }, '198.51.100.23');
    assert.equal(created.status, 201, created.text);
    createdRequestId = created.headers.get('x-request-id') ?? '';
    for (const [username, roleId] of [['mona', 4], ['bob', 2], ['gina', 3], ['lee', 5]] as const) {
      assert.equal((await api('POST', '/projects/team/members', as.alice, { memberUser: { username }, roleId })).status, 201);
    }
    const bot = await api('POST', '/projects/team/robots', as.alice, { name: 'ci', permissions: [{ kind: 'project', namespace: 'team', access: [{ resource: 'repository', action: 'pull' }] }] });
    assert.equal(bot.status, 201, bot.text);
    robot = basic(bot.body.robot.name, bot.body.secret);
    await pushImage(registry.url, 'team/app', 'v1', tinyImage(), { authorization: as.bob });
    await pullManifest(registry.url, 'team/app', 'v1', { authorization: as.gina });
    assert.equal((await api('GET', '/users/current', basic('=SUM(1+1)', 'nope'))).status, 401);
    await until('the entries', async () => {
      const all = await entries();
      const ops = new Set(all.map((e) => `${e.resourceType}.${e.operation}`));
      return ['artifact.push', 'tag.create', 'artifact.pull', 'user.login', 'robot.create', 'member.create'].every((o) => ops.has(o)) && all.some((e) => e.result === 'failure') ? all : undefined;
    });
  });
  after(() => registry?.close());

  describe('what is recorded', () => {
    it('a push (artifact and tag), a pull, with actor, provider, address, project and request id', async () => {
      const pushed = await entries('&operation=push');
      assert.equal(pushed.length, 1);
      const push = pushed[0];
      assert.match(push.resource, /^team\/app@sha256:[0-9a-f]{64}$/);
      assert.equal(push.resourceType, 'artifact');
      assert.equal(push.project, 'team');
      assert.deepEqual([push.actor, push.actorKind, push.actorProvider, push.result, push.count], ['bob', 'user', 'directory', 'success', 1]);
      assert.match(push.clientAddress, /127\.0\.0\.1/);
      assert.ok(push.requestId);
      const tag = (await entries('&resource_type=tag'))[0];
      assert.deepEqual([tag.operation, tag.resource, tag.actor, tag.requestId], ['create', 'team/app:v1', 'bob', push.requestId]);
      const pull = (await entries('&operation=pull'))[0];
      assert.deepEqual([pull.actor, pull.resource, pull.count, pull.detail.reference], ['gina', push.resource, 1, 'v1']);
    });

    it('management changes and logins, never a password', async () => {
      const project = (await entries('&resource_type=project'))[0];
      assert.deepEqual([project.operation, project.resource, project.project, project.actor], ['create', 'team', 'team', 'alice']);
      assert.equal(project.clientAddress, '198.51.100.23');
      assert.equal(project.requestId, createdRequestId);
      const members = await entries('&resource_type=member&project=team');
      assert.equal(members.length, 4);
      const users = await entries('&resource_type=user&operation=create');
      assert.deepEqual([users.length, users[0].resource, users[0].actor, users[0].actorProvider], [1, 'olaf', 'admin', 'db']);
      const robots = await entries('&resource_type=robot');
      assert.deepEqual([robots[0].operation, robots[0].resource], ['create', 'robot$team+ci']);
      const failed = await entries('&result=failure');
      assert.equal(failed.length, 1);
      assert.deepEqual([failed[0].operation, failed[0].actor, failed[0].actorKind, failed[0].actorProvider], ['login', '=SUM(1+1)', null, null]);
      const logins = await entries('&operation=login&result=success&actor=bob');
      assert.ok(logins.length >= 1);
      assert.deepEqual([logins[0].actorProvider, logins[0].resource, logins[0].detail.provider], ['directory', 'bob', 'directory']);
      const everything = JSON.stringify(await entries());
      for (const secret of [PASSWORD, ADMIN_PASSWORD, 'nope']) assert.ok(!everything.includes(secret), `no ${secret} in the log`);
    });
  });

  describe('who may read it', () => {
    it('the whole log: system administrators only', async () => {
      assert.equal((await api('GET', '/audit-logs', admin)).status, 200);
      for (const who of ['alice', 'mona', 'bob', 'gina', 'lee', 'olaf']) refused(await api('GET', '/audit-logs', as[who]), 403, 'FORBIDDEN');
      refused(await api('GET', '/audit-logs', robot), 403, 'FORBIDDEN');
      refused(await api('GET', '/audit-logs'), 401, 'UNAUTHORIZED');
      refused(await api('GET', '/audit-logs/export', as.alice), 403, 'FORBIDDEN');
    });

    it("a project's log: its Project Admins and Maintainers; not developers, guests, limited guests, others, anonymous or robots", async () => {
      for (const who of ['alice', 'mona']) {
        const res = await api('GET', '/projects/team/audit-logs', as[who]);
        assert.equal(res.status, 200, `${who}: ${res.text}`);
        assert.ok(res.body.items.length > 0);
        assert.ok(res.body.items.every((e: { project: string }) => e.project === 'team'));
        assert.equal((await api('GET', '/projects/team/audit-logs/export', as[who])).status, 200);
      }
      assert.equal((await api('GET', '/projects/team/audit-logs', admin)).status, 200);
      for (const who of ['bob', 'gina', 'lee', 'olaf']) refused(await api('GET', '/projects/team/audit-logs', as[who]), 403, 'FORBIDDEN');
      refused(await api('GET', '/projects/team/audit-logs/export', as.bob), 403, 'FORBIDDEN');
      refused(await api('GET', '/projects/team/audit-logs', robot), 403, 'FORBIDDEN');
      refused(await api('GET', '/projects/team/audit-logs'), 401, 'UNAUTHORIZED');
      // A project the caller cannot see reads as one that does not exist.
      refused(await api('GET', '/projects/nosuch/audit-logs', as.alice), 403, 'FORBIDDEN');
    });
  });

  describe('filters, pages, exports', () => {
    it('refuses bad filters in the error envelope, never a 500', async () => {
      for (const query of ['from=yesterday', 'to=2026-13-45T00:00:00Z', 'from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'operation=explode', 'cursor=bm9wZQ', 'cursor=%2F%2F', 'limit=101', 'limit=0', 'colour=red', 'result=maybe', `actor=${'a'.repeat(300)}`]) {
        refused(await api('GET', `/audit-logs?${query}`, admin), 400, 'BAD_REQUEST');
      }
      refused(await api('GET', '/audit-logs/export?format=xml', admin), 400, 'BAD_REQUEST');
      refused(await api('GET', '/projects/team/audit-logs?project=other', admin), 400, 'BAD_REQUEST');
    });

    it('pages newest first by cursor, and narrows by resource prefix, actor and time', async () => {
      // The project's entries: logins (which keep coming as tests log in) belong to none.
      const all = await entries('&project=team');
      const seen = [];
      let cursor: string | null = null;
      do {
        const res = await api('GET', `/audit-logs?project=team&limit=3${cursor ? `&cursor=${cursor}` : ''}`, admin);
        assert.ok(res.body.items.length <= 3);
        seen.push(...res.body.items.map((e: { id: number }) => e.id));
        cursor = res.body.next;
      } while (cursor);
      assert.deepEqual(seen, all.map((e) => e.id));
      for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].time >= all[i].time, 'newest first');
      assert.ok((await entries('&resource=team%2Fapp')).every((e) => e.resource.startsWith('team/app')));
      assert.deepEqual([...new Set((await entries('&actor=alice')).map((e) => e.actor))], ['alice']);
      const newest = all[0].time;
      assert.deepEqual(await entries(`&project=team&from=${encodeURIComponent(newest)}`), all.filter((e) => e.time >= newest));
      assert.deepEqual(await entries(`&project=team&to=${encodeURIComponent(newest)}`), all.filter((e) => e.time < newest));
    });

    it('exports as CSV (formulas defused) and JSON, streamed, with what the list shows', async () => {
      const all = await entries('&project=team');
      const res = await fetch(`${registry.url}/api/v1/audit-logs/export?project=team`, { headers: { authorization: admin } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="audit-log-\d{8}T\d{6}Z\.csv"$/);
      assert.equal(res.headers.get('transfer-encoding'), 'chunked');
      assert.equal(res.headers.get('content-length'), null, 'streamed, not buffered');
      const csv = await res.text();
      const lines = csv.trimEnd().split('\n');
      assert.equal(lines[0], 'id,time,actor,actorKind,actorProvider,clientAddress,operation,resourceType,resource,project,result,requestId,count,eventId,detail');
      assert.equal(lines.length, all.length + 1);
      const failed = await (await fetch(`${registry.url}/api/v1/audit-logs/export?result=failure`, { headers: { authorization: admin } })).text();
      assert.equal(failed.trimEnd().split('\n').length, 2);
      assert.match(failed, /,'=SUM\(1\+1\),/, 'a formula is prefixed with a quote');
      const json = await api('GET', '/projects/team/audit-logs/export?format=json&operation=push', as.alice);
      assert.equal(json.status, 200, json.text);
      assert.deepEqual(json.body, await entries('&operation=push', '/projects/team/audit-logs'));
      const none = await api('GET', '/audit-logs/export?format=json&actor=nobody', admin);
      assert.deepEqual(none.body, []);
    });
  });

  describe('purge', () => {
    it('counts on a dry run, deletes for real, through the jobs service; only administrators; history', async () => {
      const old = Date.now() - 200 * 24 * 3_600_000;
      await registry.get(auditServiceRef).store.insert([
        entry({ time: new Date(old), project: 'team', resource: 'team/old@sha256:aa' }),
        entry({ time: new Date(old + 1), project: 'team', operation: 'pull', resource: 'team/old@sha256:aa' }),
      ]);
      const before = (await entries('&project=team')).length;
      refused(await api('POST', '/audit-logs/purges', as.alice, { dryRun: true }), 403, 'FORBIDDEN');
      refused(await api('POST', '/audit-logs/purges', robot, { dryRun: true }), 403, 'FORBIDDEN');
      refused(await api('POST', '/audit-logs/purges', undefined, { dryRun: true }), 401, 'UNAUTHORIZED');
      refused(await api('POST', '/audit-logs/purges', admin, { dryRun: 'yes' }), 400, 'BAD_REQUEST');
      refused(await api('GET', '/audit-logs/purges', as.mona), 403, 'FORBIDDEN');
      const finished = async (body: unknown) => {
        const started = await api('POST', '/audit-logs/purges', admin, body);
        assert.equal(started.status, 202, started.text);
        assert.equal(started.headers.get('location'), `/api/v1/audit-logs/purges/${started.body.id}`);
        return until('the purge', async () => {
          const res = await api('GET', `/audit-logs/purges/${started.body.id}`, admin);
          return res.body.status === 'succeeded' || res.body.status === 'failed' ? res.body : undefined;
        });
      };
      const dry = await finished({ dryRun: true });
      assert.deepEqual([dry.status, dry.dryRun, dry.deleted, dry.requestedBy, dry.trigger], ['succeeded', true, 2, 'admin', 'api']);
      assert.deepEqual(dry.rules, { pull: { retention: '7d', count: 1 }, default: { retention: '90d', count: 1 } });
      assert.equal((await entries('&project=team')).length, before, 'a dry run deletes nothing');
      const real = await finished({});
      assert.deepEqual([real.status, real.dryRun, real.deleted], ['succeeded', false, 2]);
      assert.equal((await entries('&resource=team%2Fold')).length, 0);
      const history = await api('GET', '/audit-logs/purges', admin);
      assert.equal(history.status, 200);
      assert.deepEqual(history.body.map((p: { id: number }) => p.id), [real.id, dry.id]);
      refused(await api('GET', '/audit-logs/purges/999999', admin), 404, 'NOT_FOUND');
    });
  });
});
