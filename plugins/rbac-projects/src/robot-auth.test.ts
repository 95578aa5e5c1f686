import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachDatabase } from '@wharf/sdk-testing';
import { coreServices, definePlugin, Type, type Principal } from '@wharf/sdk';
import { projectsServiceRef, type ProjectsService } from './services.js';
import { basic, bootWithUsers, call, grantedAccess, robot, type Booted } from './test-support.js';

/**
 * Robot logins over real HTTP (Basic on `/v2/`, the token endpoint, Bearer tokens), with an
 * auth provider configured before the db one that records every name it is asked about: robot
 * names must never reach it. `auth.active` turns a robot's tokens off once it is disabled,
 * expired or deleted.
 */

const seenByDirectory: string[] = [];

/** Stands in for LDAP: first in the `auth` chain, vouches for nobody, remembers who was asked. */
const directory = definePlugin({
  id: 'directory',
  kind: 'auth',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials) => {
      if (credentials.kind === 'basic') seenByDirectory.push(credentials.username);
      return undefined;
    });
  },
});

forEachDatabase((_name, create) => {
  let booted: Booted;
  let svc: ProjectsService;
  let url: string;
  const secrets: Record<string, string> = {};

  before(async () => {
    booted = await bootWithUsers(
      await create(),
      {},
      {
        plugins: [directory],
        // Every request asks the providers and auth.active again: changes show at once.
        overrides: { auth: [{ directory: {} }, { db: {} }], token: { credentialCacheSeconds: 0, activeCacheSeconds: 0 } },
      },
    );
    url = booted.url;
    svc = booted.server.get(projectsServiceRef);
    const team = await svc.projects.create('team');
    const pull = [{ resource: 'repository', action: 'pull' }];
    const push = [...pull, { resource: 'repository', action: 'push' }];
    for (const [name, access] of [['reader', pull], ['writer', push], ['spare', pull]] as const) {
      const created = await svc.robots.create({ level: 'project', project: 'team', name, permissions: [{ kind: 'project', namespace: 'team', access }], durationDays: 30, creator: 'admin' }, team.id);
      secrets[created.robot.name] = created.secret;
    }
  });
  after(() => booted?.close());

  const v2 = async (auth: string, path = '/v2/') => (await call(url, 'GET', path, { auth })).status;

  it('taps auth.authenticate ahead of every other provider', () => {
    assert.equal(booted.server.hooks.auth.authenticate.taps[0]?.name, 'projects');
  });

  it('logs robots in with their secret; wrong secrets and unknown robots are refused; the directory never sees them', async () => {
    assert.equal(await v2(basic('robot$team+reader', secrets['robot$team+reader']!)), 200);
    assert.equal(await v2(basic('robot$team+reader', 'not-the-secret')), 401);
    assert.equal(await v2(basic('robot$team+ghost', secrets['robot$team+reader']!)), 401);
    assert.equal(await v2(basic('robot$team+writer', secrets['robot$team+reader']!)), 401);
    assert.equal((await call(url, 'GET', '/service/token?service=wharf', { auth: basic('robot$team+reader', 'nope') })).status, 401);
    assert.equal(await v2(basic('someone', 'whatever')), 401);
    assert.ok(seenByDirectory.includes('someone'), 'the directory is asked about other names');
    assert.deepEqual(seenByDirectory.filter((n) => n.startsWith('robot$')), []);
  });

  it('grants robots their permissions in tokens, and nothing elsewhere (not even public pulls)', async () => {
    const scope = 'repository:team/app:pull,push,delete';
    assert.deepEqual((await grantedAccess(url, basic('robot$team+reader', secrets['robot$team+reader']!), scope)).access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    assert.deepEqual((await grantedAccess(url, basic('robot$team+writer', secrets['robot$team+writer']!), scope)).access, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    assert.deepEqual((await grantedAccess(url, basic('robot$team+writer', secrets['robot$team+writer']!), 'repository:library/app:pull')).access, []);
    // Basic on /v2/: allowed pull reaches the route (an unknown repository), push is denied.
    const writer = basic('robot$team+writer', secrets['robot$team+writer']!);
    assert.equal(await v2(writer, '/v2/team/app/tags/list'), 404);
    assert.equal(await v2(basic('robot$team+reader', secrets['robot$team+reader']!), '/v2/team/app/tags/list'), 404);
    assert.equal((await call(url, 'POST', '/v2/team/app/blobs/uploads/', { auth: basic('robot$team+reader', secrets['robot$team+reader']!) })).status, 403);
    assert.equal((await call(url, 'POST', '/v2/team/app/blobs/uploads/', { auth: writer })).status, 202);
  });

  it('refuses disabled and expired robots at login and in the tokens they hold (auth.active)', async () => {
    const auth = basic('robot$team+writer', secrets['robot$team+writer']!);
    const { status, body } = await call(url, 'GET', `/service/token?service=wharf&scope=${encodeURIComponent('repository:team/app:pull')}`, { auth });
    assert.equal(status, 200);
    const bearer = `Bearer ${body.token as string}`;
    assert.equal(await v2(bearer, '/v2/team/app/tags/list'), 404);
    const active = (p: Principal) => booted.server.hooks.auth.active.promise(p);
    const writer = (await svc.robots.getByName('robot$team+writer'))!;
    const bound = { ...robot(writer.name), claims: { secret: writer.secretFingerprint } };
    assert.equal(await active(bound), true);
    assert.equal(await active(robot(writer.name)), false, 'a principal bound to no secret');

    await svc.robots.update(writer, 'team', { disabled: true });
    assert.equal(await v2(auth), 401);
    assert.equal(await v2(bearer, '/v2/team/app/tags/list'), 401);
    assert.equal(await active(bound), false);

    const enabled = await svc.robots.update(writer, 'team', { disabled: false });
    assert.equal(await v2(auth), 200);
    assert.equal(await v2(bearer, '/v2/team/app/tags/list'), 404);

    const database = booted.server.get(coreServices.database);
    await database.knex('rbac_robots').where({ id: enabled.id }).update({ expires_at: Date.now() - 1 });
    assert.equal(await v2(auth), 401);
    assert.equal(await v2(bearer, '/v2/team/app/tags/list'), 401);
    assert.equal(await active(bound), false);
  });

  it('answers auth.active for its own robots only; deleted robots are inactive', async () => {
    const active = (p: Principal) => booted.server.hooks.auth.active.promise(p);
    const spare = (await svc.robots.getByName('robot$team+spare'))!;
    const bound = { ...robot(spare.name), claims: { secret: spare.secretFingerprint } };
    assert.equal(await active(bound), true);
    await svc.robots.delete(spare);
    assert.equal(await active(bound), false);
    assert.equal(await v2(basic(spare.name, secrets[spare.name]!)), 401);
    assert.equal(await active({ ...robot(spare.name), provider: 'elsewhere' }), undefined);
    assert.equal(await active({ subject: 'x', kind: 'user', provider: 'elsewhere', groups: [], admin: false }), undefined);
  });
});
