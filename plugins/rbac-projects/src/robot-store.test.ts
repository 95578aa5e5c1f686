import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forEachDatabase } from '@wharf/sdk-testing';
import { coreServices, isSecretHash, verifySecret, type DatabaseService } from '@wharf/sdk';
import { ProjectsError, type ProjectsErrorCode } from './errors.js';
import { checkPermissions, type RobotPermission } from './robot-store.js';
import { projectsServiceRef, type ProjectsService } from './services.js';
import { bootWithProjects, type Booted } from './test-support.js';

/** Robot accounts: names, permission rules, hashed secrets, expiry and the login check. */

function refusedWith(code: ProjectsErrorCode, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ProjectsError, String(err));
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  };
}

const access = (...pairs: string[]) => pairs.map((p) => ({ resource: p.split(':')[0]!, action: p.split(':')[1]! }));
const perm = (namespace: string, ...pairs: string[]): RobotPermission => ({ kind: 'project', namespace, access: access(...pairs) });

describe('robot permissions', () => {
  it('accept what exists, push with pull, and drop duplicates', () => {
    assert.deepEqual(checkPermissions('project', 'team', [perm('team', 'repository:pull', 'repository:push', 'repository:pull')]), [perm('team', 'repository:pull', 'repository:push')]);
    assert.deepEqual(checkPermissions('system', undefined, [perm('*', 'repository:pull'), perm('team', 'tag:list', 'artifact:read')]).length, 2);
  });

  it('refuse push without pull, unknown resources and actions, foreign projects for project robots', () => {
    const refused = (level: 'project' | 'system', permissions: RobotPermission[], message: RegExp) =>
      assert.throws(() => checkPermissions(level, level === 'project' ? 'team' : undefined, permissions), refusedWith('ROBOT_PERMISSIONS_INVALID', message));
    refused('project', [perm('team', 'repository:push')], /push needs repository:pull/);
    refused('project', [perm('team', 'repository:pull'), perm('other', 'repository:pull')], /only have permissions in "team"/);
    refused('project', [perm('*', 'repository:pull')], /only have permissions in "team"/);
    refused('project', [perm('team', 'member:create')], /cannot be given member:create/);
    refused('project', [perm('team', 'user:create')], /cannot be given user:create/);
    refused('project', [perm('team', 'constructor:read')], /cannot be given/);
    refused('project', [perm('team', 'repository:*')], /cannot be given/);
    refused('project', [perm('team')], /no access listed/);
    refused('project', [], /at least one permission/);
    refused('system', [perm('Bad', 'repository:pull')], /not a project name/);
    refused('system', [perm('a', 'repository:pull'), perm('a', 'tag:list')], /listed twice/);
    refused('system', [{ kind: 'system', namespace: '/', access: access('user:create') } as never], /unknown permission kind/);
  });
});

forEachDatabase((_name, create) => {
  let booted: Booted;
  let svc: ProjectsService;
  let database: DatabaseService;
  let teamId: number;

  before(async () => {
    booted = await bootWithProjects(await create(), { robotPrefix: 'bot_', robotDefaultDays: 7 });
    svc = booted.server.get(projectsServiceRef);
    database = booted.server.get(coreServices.database);
    teamId = (await svc.projects.create('team')).id;
  });
  after(() => booted?.close());

  const projectRobot = (name: string, permissions = [perm('team', 'repository:pull')], durationDays = 30) =>
    svc.robots.create({ level: 'project', project: 'team', name, permissions, durationDays, creator: 'alice' }, teamId);

  it('names robots with the configured prefix and shows the secret once, storing only its hash', async () => {
    const t0 = Date.now();
    const { robot, secret } = await projectRobot('ci');
    assert.equal(robot.name, 'bot_team+ci');
    assert.equal(robot.level, 'project');
    assert.equal(robot.projectId, teamId);
    assert.equal(robot.creator, 'alice');
    assert.ok(secret.length >= 32, secret);
    assert.match(secret, /^[A-Za-z0-9_-]+$/);
    const expires = robot.expiresAt!.getTime();
    assert.ok(expires >= t0 + 30 * 86_400_000 - 1000 && expires <= Date.now() + 30 * 86_400_000);

    const row = await database.knex('rbac_robots').where({ name: 'bot_team+ci' }).first();
    assert.ok(isSecretHash(row.secret_hash), row.secret_hash);
    assert.ok(!JSON.stringify(row).includes(secret));
    assert.equal(await verifySecret(secret, row.secret_hash), true);
    assert.ok(!('secretHash' in robot) && !JSON.stringify(robot).includes(row.secret_hash), 'the record never carries the hash');

    const again = await projectRobot('ci-2');
    assert.notEqual(again.secret, secret);
  });

  it('refuses bad names and duplicates, system robots without a project in their name', async () => {
    await assert.rejects(projectRobot('CI'), refusedWith('ROBOT_NAME_INVALID'));
    await assert.rejects(projectRobot('a+b'), refusedWith('ROBOT_NAME_INVALID'));
    await assert.rejects(projectRobot('x'.repeat(65)), refusedWith('ROBOT_NAME_INVALID'));
    for (const days of [0, -2, 1.5, 36501]) await assert.rejects(projectRobot('short-lived', undefined, days), refusedWith('ROBOT_DURATION_INVALID'), String(days));
    await projectRobot('dup');
    await assert.rejects(projectRobot('dup'), refusedWith('ROBOT_EXISTS', /"bot_team\+dup" already exists/));
    const { robot } = await svc.robots.create({ level: 'system', name: 'mirror', permissions: [perm('*', 'repository:pull')], durationDays: -1, creator: 'root' }, null);
    assert.equal(robot.name, 'bot_mirror');
    assert.equal(robot.expiresAt, null);
    assert.equal(robot.projectId, null);
    await assert.rejects(
      svc.robots.create({ level: 'system', name: 'ghostly', permissions: [perm('ghost', 'repository:pull')], durationDays: 1, creator: 'root' }, null),
      refusedWith('ROBOT_PERMISSIONS_INVALID', /project "ghost" does not exist/),
    );
    await assert.rejects(svc.robots.create({ level: 'project', name: 'lost', permissions: [perm('team', 'repository:pull')], durationDays: 1, creator: 'root' }, null), refusedWith('PROJECT_UNKNOWN'));
  });

  it('verifies logins: the right secret of an enabled, unexpired robot only', async () => {
    const { robot, secret } = await projectRobot('login');
    assert.equal((await svc.robots.verify(robot.name, secret)).ok, true);
    assert.deepEqual(await svc.robots.verify(robot.name, `${secret}x`), { ok: false, reason: 'secret' });
    assert.deepEqual(await svc.robots.verify(robot.name, ''), { ok: false, reason: 'secret' });
    assert.deepEqual(await svc.robots.verify('bot_team+nobody', secret), { ok: false, reason: 'unknown' });
    const disabled = await svc.robots.update(robot, 'team', { disabled: true });
    assert.equal(disabled.disabled, true);
    assert.deepEqual(await svc.robots.verify(robot.name, secret), { ok: false, reason: 'disabled' });
    await svc.robots.update(disabled, 'team', { disabled: false });
    assert.equal((await svc.robots.verify(robot.name, secret)).ok, true);
    assert.deepEqual(await svc.robots.verify(robot.name, secret, robot.expiresAt!.getTime() + 1), { ok: false, reason: 'expired' });
    // A corrupt stored hash refuses the login instead of failing the request.
    await database.knex('rbac_robots').where({ name: robot.name }).update({ secret_hash: 'garbage' });
    assert.deepEqual(await svc.robots.verify(robot.name, secret), { ok: false, reason: 'secret' });
  });

  it('refreshes secrets: the new one works at once, the old one never again', async () => {
    const { robot, secret } = await projectRobot('rotate');
    const fresh = await svc.robots.refreshSecret(robot);
    assert.notEqual(fresh, secret);
    assert.ok(fresh.length >= 32);
    assert.equal((await svc.robots.verify(robot.name, fresh)).ok, true);
    assert.deepEqual(await svc.robots.verify(robot.name, secret), { ok: false, reason: 'secret' });
  });

  it('updates description, permissions and expiry (days from creation, -1 never)', async () => {
    const { robot } = await projectRobot('edit');
    const updated = await svc.robots.update(robot, 'team', { description: 'builds', permissions: [perm('team', 'repository:pull', 'repository:push')], durationDays: -1 });
    assert.equal(updated.description, 'builds');
    assert.equal(updated.expiresAt, null);
    assert.deepEqual(updated.permissions, [perm('team', 'repository:pull', 'repository:push')]);
    const two = await svc.robots.update(updated, 'team', { durationDays: 2 });
    assert.equal(two.expiresAt!.getTime(), robot.createdAt.getTime() + 2 * 86_400_000);
    await assert.rejects(svc.robots.update(two, 'team', { permissions: [perm('team', 'repository:push')] }), refusedWith('ROBOT_PERMISSIONS_INVALID'));
    assert.deepEqual((await svc.robots.getByName(robot.name))?.permissions, [perm('team', 'repository:pull', 'repository:push')], 'a refused update changes nothing');
  });

  it('lists robots per project or at system level, gets them by id within their scope, deletes them', async () => {
    const listed = await svc.robots.list(teamId, { pageSize: 100 });
    assert.ok(listed.total >= 5);
    assert.ok(listed.items.every((r) => r.level === 'project' && r.projectId === teamId));
    const system = await svc.robots.list(null);
    assert.deepEqual(system.items.map((r) => r.name), ['bot_mirror']);
    const { robot } = await projectRobot('gone');
    assert.equal((await svc.robots.get(robot.id, teamId)).name, robot.name);
    await assert.rejects(svc.robots.get(robot.id, null), refusedWith('ROBOT_UNKNOWN'));
    await assert.rejects(svc.robots.get(system.items[0]!.id, teamId), refusedWith('ROBOT_UNKNOWN'));
    await svc.robots.delete(robot);
    assert.equal(await svc.robots.getByName(robot.name), undefined);
    assert.deepEqual(await svc.robots.verify(robot.name, 'whatever'), { ok: false, reason: 'unknown' });
  });
});
