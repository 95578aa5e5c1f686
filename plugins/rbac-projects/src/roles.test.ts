import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MATRIX, PUBLIC_PROJECT, publicAllows, roleAllows, roleById, roleByName, ROLE_IDS, ROLES, strongestRole, type RoleId } from './roles.js';

/** The five roles with Harbor's ids, the order "strongest role wins" uses, and the public policy. */

describe('roles', () => {
  it("carry Harbor's ids", () => {
    assert.deepEqual(
      Object.values(ROLES).map((r) => [r.title, r.id]),
      [['Project Admin', 1], ['Developer', 2], ['Guest', 3], ['Maintainer', 4], ['Limited Guest', 5]],
    );
    assert.equal(roleById(4)?.name, 'maintainer');
    assert.equal(roleById(6), undefined);
    assert.equal(roleByName('limitedGuest')?.id, 5);
    assert.equal(roleByName('admin'), undefined);
    assert.equal(roleByName('toString'), undefined);
  });

  it('rank Project Admin > Maintainer > Developer > Guest > Limited Guest', () => {
    assert.equal(strongestRole([3, 2]), 2);
    assert.equal(strongestRole([2, 4]), 4);
    assert.equal(strongestRole([5, 3]), 3);
    assert.equal(strongestRole([4, 1, 5]), 1);
    assert.equal(strongestRole([]), undefined);
  });

  it('grant each role everything the role below it has (so the strongest role is the union)', () => {
    const order: RoleId[] = [5, 3, 2, 4, 1];
    for (let i = 1; i < order.length; i++) {
      for (const [resource, byRole] of Object.entries(MATRIX)) {
        for (const action of byRole[order[i - 1] as RoleId]) {
          assert.ok(roleAllows(order[i] as RoleId, resource, action), `${roleById(order[i] as number)?.name} lacks ${resource}:${action}`);
        }
      }
    }
    assert.deepEqual(ROLE_IDS, [1, 2, 3, 4, 5]);
  });

  it('give public projects read and pull only, which every role has too', () => {
    assert.equal(publicAllows('repository', 'pull'), true);
    assert.equal(publicAllows('repository', 'push'), false);
    assert.equal(publicAllows('member', 'list'), false);
    assert.equal(publicAllows('nothing', 'read'), false);
    for (const [resource, actions] of Object.entries(PUBLIC_PROJECT)) {
      for (const action of actions) assert.ok(roleAllows(5, resource, action), `${resource}:${action}`);
    }
  });

  it('deny unknown resources and actions', () => {
    assert.equal(roleAllows(1, 'quota', 'read'), false);
    assert.equal(roleAllows(1, 'repository', '*'), false);
    assert.equal(roleAllows(1, 'constructor', 'read'), false);
  });
});
