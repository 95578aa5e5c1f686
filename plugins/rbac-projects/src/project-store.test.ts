import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachDatabase } from '@wharf/sdk-testing';
import { coreServices, projectServices, type DatabaseService } from '@wharf/sdk';
import { ProjectsError, type ProjectsErrorCode } from './errors.js';
import { projectServiceRef, projectsServiceRef, robotServiceRef, type ProjectsService } from './services.js';
import { bootWithProjects, type Booted } from './test-support.js';

/** Projects, members and user groups in the registry database, on each real database. */

function refusedWith(code: ProjectsErrorCode, message?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ProjectsError, String(err));
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  };
}

forEachDatabase((_name, create) => {
  let booted: Booted;
  let svc: ProjectsService;
  let database: DatabaseService;

  before(async () => {
    booted = await bootWithProjects(await create());
    svc = booted.server.get(projectsServiceRef);
    database = booted.server.get(coreServices.database);
  });
  after(() => booted?.close());

  it('creates the public default project "library" at ready, once', async () => {
    const library = await svc.projects.require('library');
    assert.equal(library.public, true);
    assert.equal(library.owner, null);
    assert.equal(await svc.projects.ensurePublic('library'), false);
    assert.equal((await svc.projects.list({ name: { value: 'library', fuzzy: false } })).total, 1);
  });

  it('provisions a missing project for a system writer: private, the owner its Project Admin, once', async () => {
    const provisioning = booted.server.get(projectServices.provisioning);
    assert.equal(await provisioning.ensureProject('pulled-here', { owner: 'alice' }), true);
    const project = await svc.projects.require('pulled-here');
    assert.equal(project.public, false);
    assert.equal(project.owner, 'alice');
    const members = await svc.projects.listMembers('pulled-here');
    assert.deepEqual(members.items.map((m) => [m.kind, m.name, m.role]), [['user', 'alice', 1]]);
    assert.equal(await provisioning.ensureProject('pulled-here', { owner: 'bob' }), false, 'an existing project is left as it is');
    assert.equal((await svc.projects.require('pulled-here')).owner, 'alice');
    assert.equal(await provisioning.ensureProject('library'), false);
    await assert.rejects(provisioning.ensureProject('Not A Name'), refusedWith('PROJECT_NAME_INVALID'));
    assert.equal(await provisioning.ensureProject('ownerless'), true);
    assert.equal((await svc.projects.require('ownerless')).owner, null);
  });

  it('offers the projects and robots stores under their own refs too', () => {
    assert.equal(booted.server.get(projectServiceRef), svc.projects);
    assert.equal(booted.server.get(robotServiceRef), svc.robots);
  });

  it('creates projects, its owner as Project Admin; refuses duplicates and bad names', async () => {
    const t0 = Date.now();
    const team = await svc.projects.create('team-a', { owner: 'alice' });
    assert.equal(team.name, 'team-a');
    assert.equal(team.public, false);
    assert.equal(team.owner, 'alice');
    assert.ok(team.createdAt.getTime() >= t0 - 1000);
    const members = await svc.projects.listMembers('team-a');
    assert.deepEqual(members.items.map((m) => [m.kind, m.name, m.role]), [['user', 'alice', 1]]);
    await assert.rejects(svc.projects.create('team-a'), refusedWith('PROJECT_EXISTS'));
    for (const bad of ['Team', 'a+b', 'a/b', '', 'x'.repeat(256), 'a__b']) {
      await assert.rejects(svc.projects.create(bad), refusedWith('PROJECT_NAME_INVALID'), bad);
    }
    // Names are byte-wise: the servers' case-insensitive default collations do not apply.
    assert.equal(await svc.projects.get('TEAM-A'), undefined);
  });

  it('lists with pages, name filters, visibility filters and what a caller may see', async () => {
    for (const name of ['list-a', 'list-b', 'list-c']) await svc.projects.create(name, { public: name === 'list-b' });
    await svc.projects.addMember('list-c', 'user', 'carl', 3);
    await svc.projects.createGroup('list-readers', 'ldap');
    await svc.projects.addMember('list-a', 'group', 'list-readers', 5);
    const names = async (filter: Parameters<ProjectsService['projects']['list']>[0]) => (await svc.projects.list(filter)).items.map((p) => p.name);
    assert.deepEqual(await names({ name: { value: 'list-', fuzzy: true } }), ['list-a', 'list-b', 'list-c']);
    assert.deepEqual(await names({ name: { value: 'list-', fuzzy: true }, page: 2, pageSize: 2 }), ['list-c']);
    assert.equal((await svc.projects.list({ name: { value: 'list-', fuzzy: true }, pageSize: 2 })).total, 3);
    assert.deepEqual(await names({ name: { value: 'list-b', fuzzy: false } }), ['list-b']);
    assert.deepEqual(await names({ name: { value: 'list-', fuzzy: true }, public: true }), ['list-b']);
    const visible = (who: { kind: 'user' | 'group'; name: string }[]) => names({ name: { value: 'list-', fuzzy: true }, visibleTo: who });
    assert.deepEqual(await visible([]), ['list-b']);
    assert.deepEqual(await visible([{ kind: 'user', name: 'carl' }]), ['list-b', 'list-c']);
    assert.deepEqual(await visible([{ kind: 'user', name: 'dora' }, { kind: 'group', name: 'list-readers' }]), ['list-a', 'list-b']);
    // LIKE wildcards in the filter match themselves.
    assert.deepEqual(await names({ name: { value: 'list_', fuzzy: true } }), []);
    assert.deepEqual(await names({ name: { value: '%', fuzzy: true } }), []);
  });

  it('changes visibility, and refuses unknown projects', async () => {
    await svc.projects.create('vis');
    assert.equal((await svc.projects.setPublic('vis', true)).public, true);
    assert.equal((await svc.projects.require('vis')).public, true);
    await assert.rejects(svc.projects.setPublic('nope', true), refusedWith('PROJECT_UNKNOWN'));
    await assert.rejects(svc.projects.require('nope'), refusedWith('PROJECT_UNKNOWN', /"nope" not found/));
  });

  it('manages members: users of any provider, existing groups, one row per member, valid roles', async () => {
    await svc.projects.create('mem');
    const bob = await svc.projects.addMember('mem', 'user', 'bob', 2);
    assert.equal(bob.role, 2);
    await assert.rejects(svc.projects.addMember('mem', 'user', 'bob', 3), refusedWith('MEMBER_EXISTS'));
    await assert.rejects(svc.projects.addMember('mem', 'user', 'eve', 6), refusedWith('ROLE_UNKNOWN'));
    await assert.rejects(svc.projects.addMember('mem', 'user', 'eve', 0), refusedWith('ROLE_UNKNOWN'));
    await assert.rejects(svc.projects.addMember('mem', 'user', 'a\nb', 2), refusedWith('MEMBER_NAME_INVALID'));
    await assert.rejects(svc.projects.addMember('mem', 'group', 'ghosts', 2), refusedWith('GROUP_UNKNOWN', /POST \/api\/v1\/usergroups/));
    await assert.rejects(svc.projects.addMember('nope', 'user', 'bob', 2), refusedWith('PROJECT_UNKNOWN'));
    // A user and a group may share a name: they are different members.
    await svc.projects.createGroup('bob', 'local');
    await svc.projects.addMember('mem', 'group', 'bob', 3);
    assert.deepEqual((await svc.projects.listMembers('mem')).items.map((m) => `${m.kind}:${m.name}:${m.role}`), ['group:bob:3', 'user:bob:2']);
    assert.equal((await svc.projects.setMemberRole('mem', bob.id, 4)).role, 4);
    assert.equal((await svc.projects.getMember('mem', bob.id)).role, 4);
    await assert.rejects(svc.projects.setMemberRole('mem', bob.id, 9), refusedWith('ROLE_UNKNOWN'));
    // A member id of another project is not found through this one.
    await svc.projects.create('mem-other');
    await assert.rejects(svc.projects.getMember('mem-other', bob.id), refusedWith('MEMBER_UNKNOWN'));
    await assert.rejects(svc.projects.removeMember('mem-other', bob.id), refusedWith('MEMBER_UNKNOWN'));
    await svc.projects.removeMember('mem', bob.id);
    await assert.rejects(svc.projects.getMember('mem', bob.id), refusedWith('MEMBER_UNKNOWN'));
    const { id } = await svc.projects.require('mem');
    assert.deepEqual(await svc.projects.rolesIn(id, [{ kind: 'user', name: 'bob' }, { kind: 'group', name: 'bob' }]), [3]);
  });

  it('manages user groups: unique names, types, renames that keep memberships, deletes that drop them', async () => {
    const group = await svc.projects.createGroup('cn-devs', 'ldap', 'cn=devs,ou=groups,dc=example,dc=org');
    assert.equal(group.type, 'ldap');
    assert.equal(group.externalId, 'cn=devs,ou=groups,dc=example,dc=org');
    await assert.rejects(svc.projects.createGroup('cn-devs', 'oidc'), refusedWith('GROUP_EXISTS'));
    await assert.rejects(svc.projects.createGroup('', 'ldap'), refusedWith('GROUP_NAME_INVALID'));
    await assert.rejects(svc.projects.createGroup('x', 'nis' as never), refusedWith('GROUP_NAME_INVALID', /unknown group type/));
    await svc.projects.create('grp');
    await svc.projects.addMember('grp', 'group', 'cn-devs', 2);
    const { id: projectId } = await svc.projects.require('grp');

    const renamed = await svc.projects.updateGroup(group.id, { name: 'developers', externalId: null });
    assert.equal(renamed.name, 'developers');
    assert.equal(renamed.externalId, null);
    assert.deepEqual(await svc.projects.rolesIn(projectId, [{ kind: 'group', name: 'developers' }]), [2]);
    assert.deepEqual(await svc.projects.rolesIn(projectId, [{ kind: 'group', name: 'cn-devs' }]), []);
    await svc.projects.createGroup('taken', 'local');
    await assert.rejects(svc.projects.updateGroup(group.id, { name: 'taken' }), refusedWith('GROUP_EXISTS'));
    assert.equal((await svc.projects.getGroup(group.id)).name, 'developers', 'a refused rename changes nothing');
    assert.deepEqual(await svc.projects.rolesIn(projectId, [{ kind: 'group', name: 'developers' }]), [2]);

    assert.deepEqual((await svc.projects.listGroups({ name: { value: 'develop', fuzzy: true } })).items.map((g) => g.name), ['developers']);
    await svc.projects.deleteGroup(group.id);
    await assert.rejects(svc.projects.getGroup(group.id), refusedWith('GROUP_UNKNOWN'));
    assert.equal((await svc.projects.listMembers('grp')).total, 0);
    await assert.rejects(svc.projects.deleteGroup(group.id), refusedWith('GROUP_UNKNOWN'));
  });

  it('deletes a project with its members and robots, and takes it out of system robots', async () => {
    const doomed = await svc.projects.create('doomed', { owner: 'zed' });
    await svc.projects.create('kept');
    const pull = [{ resource: 'repository', action: 'pull' }];
    await svc.robots.create({ level: 'project', project: 'doomed', name: 'ci', permissions: [{ kind: 'project', namespace: 'doomed', access: pull }], durationDays: 30, creator: 'zed' }, doomed.id);
    const { robot: mirror } = await svc.robots.create(
      { level: 'system', name: 'doomed-mirror', permissions: [{ kind: 'project', namespace: 'doomed', access: pull }, { kind: 'project', namespace: 'kept', access: pull }], durationDays: 30, creator: 'root' },
      null,
    );
    await svc.projects.delete('doomed');
    assert.equal(await svc.projects.get('doomed'), undefined);
    assert.equal(await svc.robots.getByName('robot$doomed+ci'), undefined);
    const rows = await database.knex('rbac_members').where({ project_id: doomed.id });
    assert.equal(rows.length, 0);
    assert.deepEqual((await svc.robots.getByName(mirror.name))?.permissions.map((p) => p.namespace), ['kept']);
    await assert.rejects(svc.projects.delete('doomed'), refusedWith('PROJECT_UNKNOWN'));
    // A project created again under the name starts empty.
    await svc.projects.create('doomed');
    assert.equal((await svc.projects.listMembers('doomed')).total, 0);
  });
});
