import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMemberName, isProjectName, isRobotShortName, projectOf, robotFullName } from './names.js';

/** Project, robot and member name rules, and how a repository names its project. */

describe('project names', () => {
  it('are lowercase alphanumerics with single separators, at most 255 characters', () => {
    for (const good of ['library', 'a', 'team-a', 'team.a', 'team_a', 'a1-b2.c3_d4', '0', 'x'.repeat(255)]) {
      assert.equal(isProjectName(good), true, good);
    }
    for (const bad of ['', 'Team', 'team a', 'team+a', 'team/a', '-team', 'team-', '.team', 'a__b', 'a--b', 'a.-b', 'tëam', 'x'.repeat(256), 'robot$x']) {
      assert.equal(isProjectName(bad), false, bad);
    }
  });

  it('are the first segment of a repository name of at least two segments', () => {
    assert.equal(projectOf('library/alpine'), 'library');
    assert.equal(projectOf('team/deep/nested/app'), 'team');
    assert.equal(projectOf('alpine'), undefined);
    assert.equal(projectOf('/alpine'), undefined);
  });
});

describe('robot names', () => {
  it('join prefix, project and short name with +, or prefix and name for system robots', () => {
    assert.equal(robotFullName('robot$', 'ci', 'team'), 'robot$team+ci');
    assert.equal(robotFullName('robot$', 'mirror', null), 'robot$mirror');
    assert.equal(robotFullName('bot_', 'ci', 'team'), 'bot_team+ci');
  });

  it('have short names like project names, at most 64 characters', () => {
    for (const good of ['ci', 'ci-1', 'deploy.prod', 'x'.repeat(64)]) assert.equal(isRobotShortName(good), true, good);
    for (const bad of ['', 'CI', 'ci+x', 'ci$', 'ci/x', '-ci', 'x'.repeat(65)]) assert.equal(isRobotShortName(bad), false, bad);
  });
});

describe('member names', () => {
  it('accept any printable name a provider may vouch for, and refuse control characters', () => {
    for (const good of ['alice', 'Alice Smith', 'cn=x', 'bøb', 'a'.repeat(255)]) assert.equal(isMemberName(good), true, good);
    for (const bad of ['', 'a\nb', 'a\u0000', 'a'.repeat(256)]) assert.equal(isMemberName(bad), false, JSON.stringify(bad));
  });
});
