import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { forEachDatabase } from '@wharf/sdk-testing';
import { ANONYMOUS, coreServices, type AccessRequest, type Principal } from '@wharf/sdk';
import { projectsServiceRef, type ProjectsService } from './services.js';
import { bootWithProjects, robot, user, type Booted } from './test-support.js';

/**
 * Every role × resource × action of Harbor's matrix (harbor.md 1.4), allow and deny, decided by
 * the plugin on a real database; then anonymous, groups, robots, missing projects, admins.
 * The expected table is written here in Harbor's own notation, apart from roles.ts.
 */

const HARBOR: Record<string, Record<string, string>> = {
  //            Project Admin        Maintainer           Developer       Guest        Limited Guest
  project: { pa: 'RUD', m: 'R', d: 'R', g: 'R', lg: 'R' },
  member: { pa: 'CRUDL', m: 'RL', d: 'RL', g: 'RL', lg: '' },
  metadata: { pa: 'CRUD', m: 'R', d: '', g: '', lg: '' },
  log: { pa: 'L', m: 'L', d: '', g: '', lg: '' },
  repository: { pa: 'CRUDL pull push delete', m: 'CRUDL pull push delete', d: 'CRUL pull push', g: 'RL pull', lg: 'RL pull' },
  robot: { pa: 'CRUDL', m: 'RL', d: 'RL', g: 'RL', lg: '' },
  artifact: { pa: 'CRDL', m: 'CRDL', d: 'CRL', g: 'RL', lg: 'RL' },
  tag: { pa: 'CDL', m: 'CDL', d: 'CL', g: 'L', lg: 'L' },
};
const LETTERS: Record<string, string> = { C: 'create', R: 'read', U: 'update', D: 'delete', L: 'list' };
const ACTIONS = ['create', 'read', 'update', 'delete', 'list', 'pull', 'push'];
const ROLE_IDS: Record<string, number> = { pa: 1, m: 4, d: 2, g: 3, lg: 5 };

function allowed(cell: string): Set<string> {
  const [crud = '', ...registry] = cell.split(' ');
  return new Set([...[...crud].map((c) => LETTERS[c]!), ...registry]);
}

/** The access for a matrix cell: registry actions go through the repository resource. */
function accessFor(project: string, resource: string, action: string): AccessRequest {
  if (resource === 'repository' && ['pull', 'push', 'delete'].includes(action) && action !== 'delete') {
    return { resource: { type: 'repository', name: `${project}/app` }, action };
  }
  return { resource: { type: 'project', name: project, resource }, action };
}

forEachDatabase((_name, create) => {
  let booted: Booted;
  let svc: ProjectsService;
  const may = async (principal: Principal, access: AccessRequest) => (await svc.authorizer.decide(principal, access)).allow;

  before(async () => {
    booted = await bootWithProjects(await create());
    svc = booted.server.get(projectsServiceRef);
    await svc.projects.create('priv', { public: false });
    await svc.projects.create('pub', { public: true });
    for (const [role, id] of Object.entries(ROLE_IDS)) await svc.projects.addMember('priv', 'user', role, id);
    await svc.projects.createGroup('devs', 'ldap', 'cn=devs,ou=groups,dc=example,dc=org');
    await svc.projects.addMember('priv', 'group', 'devs', 2);
    await svc.projects.addMember('priv', 'user', 'both', 3);
    await svc.projects.createGroup('admins-of-priv', 'ldap');
    await svc.projects.addMember('priv', 'group', 'admins-of-priv', 1);
    svc.authorizer.invalidate();
  });
  after(() => booted?.close());

  describe('the role matrix', () => {
    for (const [resource, byRole] of Object.entries(HARBOR)) {
      for (const [role, cell] of Object.entries(byRole)) {
        it(`${role} on ${resource}: ${cell || 'nothing'}`, async () => {
          const expected = allowed(cell);
          for (const action of ACTIONS) {
            const got = await may(user(role), accessFor('priv', resource, action));
            assert.equal(got, expected.has(action), `${role} ${action} ${resource}`);
          }
          if (resource === 'repository') {
            const del = await may(user(role), { resource: { type: 'repository', name: 'priv/app' }, action: 'delete' });
            assert.equal(del, expected.has('delete') && cell.includes(' delete'), `${role} /v2/ delete`);
          }
        });
      }
    }
  });

  it('non-members and anonymous get nothing in a private project', async () => {
    for (const p of [user('stranger'), ANONYMOUS]) {
      for (const action of ['pull', 'push', 'delete']) assert.equal(await may(p, accessFor('priv', 'repository', action)), false);
      assert.equal(await may(p, accessFor('priv', 'project', 'read')), false);
    }
  });

  it('anyone, anonymous included, may read and pull in a public project, and nothing more', async () => {
    for (const p of [user('stranger'), ANONYMOUS]) {
      assert.equal(await may(p, { resource: { type: 'repository', name: 'pub/app' }, action: 'pull' }), true);
      assert.equal(await may(p, { resource: { type: 'repository', name: 'pub/deep/app' }, action: 'pull' }), true);
      assert.equal(await may(p, accessFor('pub', 'project', 'read')), true);
      assert.equal(await may(p, accessFor('pub', 'tag', 'list')), true);
      assert.equal(await may(p, { resource: { type: 'repository', name: 'pub/app' }, action: 'push' }), false);
      assert.equal(await may(p, { resource: { type: 'repository', name: 'pub/app' }, action: 'delete' }), false);
      assert.equal(await may(p, accessFor('pub', 'member', 'list')), false);
    }
  });

  it('groups give their role, and the strongest role wins', async () => {
    assert.equal(await may(user('carol', ['devs']), accessFor('priv', 'repository', 'push')), true);
    assert.equal(await may(user('carol', ['devs']), { resource: { type: 'repository', name: 'priv/app' }, action: 'delete' }), false);
    assert.equal(await may(user('carol', ['other']), accessFor('priv', 'repository', 'pull')), false);
    // "both" is a Guest directly and a Developer through devs: Developer wins.
    assert.equal(await may(user('both'), accessFor('priv', 'repository', 'push')), false);
    assert.equal(await may(user('both', ['devs']), accessFor('priv', 'repository', 'push')), true);
    assert.equal(await may(user('both', ['devs', 'admins-of-priv']), { resource: { type: 'repository', name: 'priv/app' }, action: 'delete' }), true);
  });

  it('system administrators may do everything; system resources are theirs', async () => {
    const admin = user('root', [], true);
    assert.equal(await may(admin, { resource: { type: 'repository', name: 'priv/app' }, action: 'delete' }), true);
    assert.equal(await may(admin, { resource: { type: 'repository', name: 'priv/app' }, action: 'push' }), true);
    assert.equal(await may(admin, { resource: { type: 'repository', name: 'ghost/app' }, action: 'pull' }), true);
    assert.deepEqual(await svc.authorizer.decide(admin, { resource: { type: 'repository', name: 'ghost/app' }, action: 'push' }), { allow: false, reason: 'project "ghost" does not exist' });
    assert.equal(await may(admin, { resource: { type: 'registry', name: 'catalog' }, action: '*' }), true);
    assert.equal(await may(user('pa'), { resource: { type: 'registry', name: 'catalog' }, action: '*' }), false);
    assert.equal(await may(admin, { resource: { type: 'project', name: 'priv', resource: 'log' }, action: 'list' }), true);
    assert.equal(await may(admin, { resource: { type: 'system', name: 'configuration' }, action: 'update' }), true);
    assert.equal(await may(user('pa'), { resource: { type: 'system', name: 'configuration' }, action: 'update' }), false);
    assert.equal(await may(user('pa'), { resource: { type: 'project', name: 'priv', resource: 'quota' }, action: 'read' }), false, 'unknown resources are denied');
    assert.equal(await may(admin, { resource: { type: 'system', name: 'user-group' }, action: 'create' }), true);
    assert.equal(await may(user('pa'), { resource: { type: 'system', name: 'user-group' }, action: 'create' }), false);
    assert.equal(await may(user('pa'), { resource: { type: 'system', name: 'robot' }, action: 'list' }), false);
    assert.equal(await may(ANONYMOUS, { resource: { type: 'system', name: 'project' }, action: 'create' }), false);
    assert.equal(await may(user('anyone'), { resource: { type: 'system', name: 'project' }, action: 'create' }), true);
  });

  it('refuses repositories outside any project, and pushes to missing projects', async () => {
    const single = await svc.authorizer.decide(user('pa'), { resource: { type: 'repository', name: 'alpine' }, action: 'pull' });
    assert.equal(single.allow, false);
    assert.match(String((single as { reason?: string }).reason), /<project>\/<name>/);
    const missing = await svc.authorizer.decide(user('pa'), { resource: { type: 'repository', name: 'nope/app' }, action: 'push' });
    assert.deepEqual(missing, { allow: false, reason: 'project "nope" does not exist or you are not a member of it' });
    assert.equal(await svc.projects.get('nope'), undefined);
  });

  it('says why it refuses, and tells nobody who may not see a private project that it exists', async () => {
    const reason = async (p: Principal, access: AccessRequest) => {
      const decision = await svc.authorizer.decide(p, access);
      assert.equal(decision.allow, false, JSON.stringify(access));
      return (decision as { reason?: string }).reason;
    };
    const repo = (name: string, action: string): AccessRequest => ({ resource: { type: 'repository', name }, action });
    assert.equal(await reason(user('g'), repo('priv/app', 'push')), 'your role in "priv" is guest: it may pull, not push');
    assert.equal(await reason(user('d'), repo('priv/app', 'delete')), 'your role in "priv" is developer: it may pull and push, not delete');
    assert.equal(await reason(user('g'), accessFor('priv', 'member', 'create')), 'your role in "priv" is guest: it may not create member');
    assert.match(String(await reason(user('pa'), repo('alpine', 'push'))), /repository "alpine" has no project: name it <project>\/<name>/);
    assert.equal(await reason(user('stranger'), repo('pub/app', 'push')), 'project "pub" is public: anyone may pull, to push ask for a role in it');
    assert.equal(await reason(ANONYMOUS, repo('pub/app', 'push')), 'project "pub" is public: anyone may pull, to push log in as a member');
    // A private project and a missing one read the same to a non-member, a robot of another
    // project and an anonymous caller, for every action.
    const { robot: foreign } = await svc.robots.create(
      { level: 'project', project: 'pub', name: 'reasons', permissions: [{ kind: 'project', namespace: 'pub', access: [{ resource: 'repository', action: 'pull' }] }], durationDays: 30, creator: 'pa' },
      (await svc.projects.require('pub')).id,
    );
    for (const p of [user('stranger'), ANONYMOUS, robot(foreign.name)]) {
      for (const action of ['pull', 'push', 'delete']) {
        const existing = await reason(p, repo('priv/app', action));
        const missing = await reason(p, repo('nosuch/app', action));
        assert.equal(existing?.replace('"priv"', '"nosuch"'), missing, `${p.subject} ${action}`);
        assert.match(String(missing), /^project "nosuch" does not exist or /);
      }
    }
    // Administrators see every project: for them a missing one simply does not exist.
    assert.equal(await reason(user('root', [], true), repo('nosuch/app', 'push')), 'project "nosuch" does not exist');
  });

  it('robots get exactly their permissions, in their projects, while enabled and unexpired', async () => {
    const pull = [{ resource: 'repository', action: 'pull' }];
    const pushPull = [...pull, { resource: 'repository', action: 'push' }];
    const priv = await svc.projects.require('priv');
    const { robot: reader } = await svc.robots.create({ level: 'project', project: 'priv', name: 'reader', permissions: [{ kind: 'project', namespace: 'priv', access: pull }], durationDays: 30, creator: 'pa' }, priv.id);
    const { robot: writer } = await svc.robots.create({ level: 'project', project: 'priv', name: 'writer', permissions: [{ kind: 'project', namespace: 'priv', access: pushPull }], durationDays: -1, creator: 'pa' }, priv.id);
    const { robot: everywhere } = await svc.robots.create({ level: 'system', name: 'mirror', permissions: [{ kind: 'project', namespace: '*', access: pull }], durationDays: 30, creator: 'root' }, null);
    svc.authorizer.invalidate();
    const repo = (name: string, action: string): AccessRequest => ({ resource: { type: 'repository', name }, action });
    assert.equal(reader.name, 'robot$priv+reader');
    assert.equal(everywhere.name, 'robot$mirror');
    assert.equal(await may(robot(reader.name), repo('priv/app', 'pull')), true);
    assert.equal(await may(robot(reader.name), repo('priv/app', 'push')), false);
    assert.equal(await may(robot(writer.name), repo('priv/app', 'push')), true);
    assert.equal(await may(robot(writer.name), repo('priv/app', 'delete')), false);
    assert.equal(await may(robot(everywhere.name), repo('priv/app', 'pull')), true);
    assert.equal(await may(robot(everywhere.name), repo('priv/app', 'push')), false);
    assert.equal(await may(robot(reader.name), accessFor('priv', 'member', 'create')), false);
    // robots have their explicit permissions only, not even a public project's pull
    assert.equal(await may(robot(writer.name), repo('pub/app', 'pull')), false);
    assert.equal(await may(robot(writer.name), repo('pub/app', 'push')), false);
    assert.equal(await may(robot(everywhere.name), repo('pub/app', 'pull')), true, '* covers every project');
    assert.equal(await may(robot(everywhere.name), repo('nope/app', 'pull')), false, 'but not missing ones');
    const { robot: mixed } = await svc.robots.create(
      { level: 'system', name: 'mixed', permissions: [{ kind: 'project', namespace: '*', access: pull }, { kind: 'project', namespace: 'priv', access: [{ resource: 'tag', action: 'list' }] }], durationDays: 30, creator: 'root' },
      null,
    );
    assert.equal(await may(robot(mixed.name), repo('priv/app', 'pull')), true, 'entries for * and for the project add up');
    assert.equal(await may(robot(mixed.name), accessFor('priv', 'tag', 'list')), true);
    assert.equal(await may(robot(mixed.name), accessFor('pub', 'tag', 'list')), false);
    // a robot name vouched for by another provider gets nothing
    assert.equal(await may({ ...robot(reader.name), provider: 'elsewhere' }, repo('priv/app', 'pull')), false);
    // API resources: only those listed
    const { robot: lister } = await svc.robots.create(
      { level: 'project', project: 'priv', name: 'lister', permissions: [{ kind: 'project', namespace: 'priv', access: [{ resource: 'tag', action: 'list' }, { resource: 'artifact', action: 'read' }] }], durationDays: 30, creator: 'pa' },
      priv.id,
    );
    assert.equal(await may(robot(lister.name), accessFor('priv', 'tag', 'list')), true);
    assert.equal(await may(robot(lister.name), accessFor('priv', 'artifact', 'read')), true);
    assert.equal(await may(robot(lister.name), accessFor('priv', 'artifact', 'delete')), false);
    assert.equal(await may(robot(lister.name), repo('priv/app', 'pull')), false);
    assert.equal(await may(robot(lister.name), { resource: { type: 'system', name: 'project' }, action: 'create' }), false);
    // disabled (the store's write drops the cache at once), enabled again, expired, deleted
    const disabled = await svc.robots.update(writer, 'priv', { disabled: true });
    assert.equal(await may(robot(writer.name), repo('priv/app', 'pull')), false);
    await svc.robots.update(disabled, 'priv', { disabled: false });
    assert.equal(await may(robot(writer.name), repo('priv/app', 'pull')), true);
    const database = booted.server.get(coreServices.database);
    await database.knex('rbac_robots').where({ name: writer.name }).update({ expires_at: Date.now() - 1000 });
    svc.authorizer.invalidate();
    assert.equal(await may(robot(writer.name), repo('priv/app', 'pull')), false);
    await svc.robots.delete(reader);
    assert.equal(await may(robot(reader.name), repo('priv/app', 'pull')), false);
    assert.equal(await may(robot('robot$priv+ghost'), repo('priv/app', 'pull')), false);
    // a project robot of priv gets nothing in another project, even with a forged permission row
    const other = await svc.projects.create('other-team');
    const { robot: foreign } = await svc.robots.create({ level: 'project', project: 'other-team', name: 'ci', permissions: [{ kind: 'project', namespace: 'other-team', access: pull }], durationDays: 30, creator: 'pa' }, other.id);
    await database.knex('rbac_robots').where({ name: foreign.name }).update({ permissions: JSON.stringify([{ kind: 'project', namespace: 'priv', access: pull }]) });
    svc.authorizer.invalidate();
    assert.equal(await may(robot(foreign.name), repo('priv/app', 'pull')), false);
  });
});

describe('autoCreate', () => {
  forEachDatabase((_name, create) => {
    let booted: Booted;
    let svc: ProjectsService;
    before(async () => {
      booted = await bootWithProjects(await create(), { autoCreate: true, creation: 'everyone', defaultProject: null });
      svc = booted.server.get(projectsServiceRef);
    });
    after(() => booted?.close());

    it('creates a missing project on push for users who may create projects, with them as Project Admin', async () => {
      assert.equal(await svc.projects.get('library'), undefined, 'defaultProject: null creates nothing');
      // The token service asks pull before push: a would-be creator may "pull" from nothing.
      assert.equal((await svc.authorizer.decide(user('dana'), { resource: { type: 'repository', name: 'fresh/app' }, action: 'pull' })).allow, true);
      assert.equal((await svc.authorizer.decide(user('dana'), { resource: { type: 'repository', name: 'fresh/app' }, action: 'delete' })).allow, false);
      assert.equal((await svc.authorizer.decide(user('dana'), { resource: { type: 'project', name: 'fresh', resource: 'repository' }, action: 'list' })).allow, false);
      assert.equal(await svc.projects.get('fresh'), undefined, 'a pull creates nothing');
      assert.equal((await svc.authorizer.decide(user('dana'), { resource: { type: 'repository', name: 'fresh/app' }, action: 'push' })).allow, true);
      const project = await svc.projects.require('fresh');
      assert.equal(project.public, false);
      assert.equal(project.owner, 'dana');
      assert.equal((await svc.authorizer.decide(user('erin'), { resource: { type: 'repository', name: 'fresh/app' }, action: 'push' })).allow, false);
      const members = await svc.projects.listMembers('fresh');
      assert.deepEqual(members.items.map((m) => [m.kind, m.name, m.role]), [['user', 'dana', 1]]);
      assert.equal((await svc.authorizer.decide(user('dana'), { resource: { type: 'repository', name: 'fresh/app' }, action: 'delete' })).allow, true);
      for (const p of [ANONYMOUS, robot('robot$x')]) {
        assert.equal((await svc.authorizer.decide(p, { resource: { type: 'repository', name: 'other/app' }, action: 'pull' })).allow, false);
        assert.equal((await svc.authorizer.decide(p, { resource: { type: 'repository', name: 'other/app' }, action: 'push' })).allow, false);
      }
      assert.equal(await svc.projects.get('other'), undefined);
      const bad = await svc.authorizer.decide(user('dana'), { resource: { type: 'repository', name: 'a__b/app' }, action: 'push' });
      assert.equal(bad.allow, false);
      assert.match(String((bad as { reason?: string }).reason), /not a valid project name/);
    });

    it('two pushers racing for a new project: one creates it and is its Project Admin, the other is refused', async () => {
      const [a, b] = await Promise.all(
        ['fay', 'gus'].map((who) => svc.authorizer.decide(user(who), { resource: { type: 'repository', name: 'race/app' }, action: 'push' })),
      );
      assert.equal([a, b].filter((d) => d?.allow).length, 1);
      const owner = (await svc.projects.require('race')).owner;
      assert.ok(owner === 'fay' || owner === 'gus');
      assert.equal((await svc.projects.listMembers('race')).total, 1);
    });
  });
});

describe('adminonly creation', () => {
  forEachDatabase((_name, create) => {
    let booted: Booted;
    let svc: ProjectsService;
    before(async () => {
      booted = await bootWithProjects(await create(), { autoCreate: true, creation: 'adminonly' });
      svc = booted.server.get(projectsServiceRef);
    });
    after(() => booted?.close());

    it('only administrators create projects, by API or by push', async () => {
      const createProject: AccessRequest = { resource: { type: 'system', name: 'project' }, action: 'create' };
      assert.deepEqual(await svc.authorizer.decide(user('hal'), createProject), { allow: false, reason: 'only system administrators may create projects' });
      assert.equal((await svc.authorizer.decide(user('root', [], true), createProject)).allow, true);
      assert.equal((await svc.authorizer.decide(user('hal'), { resource: { type: 'repository', name: 'mine/app' }, action: 'push' })).allow, false);
      assert.equal(await svc.projects.get('mine'), undefined);
      // An administrator's push creates the project: every repository belongs to one.
      assert.equal((await svc.authorizer.decide(user('root', [], true), { resource: { type: 'repository', name: 'mine/app' }, action: 'push' })).allow, true);
      assert.equal((await svc.projects.require('mine')).owner, 'root');
      assert.equal((await svc.authorizer.decide(user('root', [], true), { resource: { type: 'repository', name: 'alpine' }, action: 'push' })).allow, false);
      assert.equal((await svc.authorizer.decide(user('root', [], true), { resource: { type: 'repository', name: 'alpine' }, action: 'delete' })).allow, true);
      // Everyone may list (the handler filters) and pull from the public default project.
      assert.equal((await svc.authorizer.decide(ANONYMOUS, { resource: { type: 'system', name: 'project' }, action: 'list' })).allow, true);
      assert.equal((await svc.authorizer.decide(ANONYMOUS, { resource: { type: 'repository', name: 'library/app' }, action: 'pull' })).allow, true);
    });
  });
});
