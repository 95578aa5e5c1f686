import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type, type ApiOperation } from '@wharf/sdk';
import { matchRoute } from './api-router.js';
import { OperationRegistry } from './operation-registry.js';

/** What boot refuses in a plugin's operations, and how paths find their operation. */

const handler = async () => undefined;
const op = (over: Partial<ApiOperation> & Record<string, unknown>): ApiOperation =>
  ({ operationId: 'getThing', method: 'GET', path: '/things/{thing}', tag: 't', summary: 's', handler, ...over }) as ApiOperation;

describe('operation registry', () => {
  it('refuses operations whose params do not match the path, naming the plugin', () => {
    const registry = new OperationRegistry();
    assert.throws(() => registry.add('acme', op({ params: Type.Object({ other: Type.String() }) })), /plugin "acme".*missing thing, unknown other/);
    assert.throws(() => registry.add('acme', op({ params: Type.String() as never })), /object schema for params/);
    assert.throws(() => registry.add('acme', op({ path: '/a/{x}/b/{x}' })), /repeats a parameter/);
    assert.throws(() => registry.add('acme', op({ method: 'TRACE' as never })), /unknown method/);
    assert.throws(() => registry.add('acme', op({ body: Type.Object({}) })), /GET with a body/);
    assert.throws(() => registry.add('acme', op({ operationId: 'listThings', path: '/things', list: true, method: 'POST', response: Type.Object({}) })), /must be a GET/);
    assert.throws(
      () => registry.add('acme', op({ operationId: 'listThings', path: '/things', list: true, response: Type.Object({}), query: Type.Object({ page: Type.Integer() }) })),
      /kernel owns them/,
    );
    const list = { operationId: 'listThings', path: '/things', list: true, response: Type.Object({}) };
    for (const sorts of [[], ['name', 'name'], ['name;drop'], ['-name'], 'name']) {
      assert.throws(() => registry.add('acme', op({ ...list, sorts: sorts as never })), /needs sorts to be distinct field names/, JSON.stringify(sorts));
    }
    assert.throws(() => registry.add('acme', op({ ...list, sorts: ['name'], query: Type.Object({ sort: Type.String() }) })), /the kernel owns sort when sorts is set/);
    registry.add('acme', op({ params: Type.Object({ thing: Type.String() }) }));
    assert.throws(() => registry.add('other', op({ operationId: 'getOther', path: '/things/{id}' })), /duplicates GET \/things\/\{id\} of acme/);
  });

  it('fails at seal when a schema cannot be compiled, and refuses operations after it', () => {
    const registry = new OperationRegistry();
    registry.add('acme', op({ params: Type.Object({ thing: Type.String({ pattern: '(' }) }) }));
    assert.throws(() => registry.seal(), /plugin "acme": api operation "getThing" has a schema that cannot be compiled/);
    assert.throws(() => registry.add('late', op({ operationId: 'later', path: '/later' })), /after registration/);
  });

  it('matches literal segments before parameters, whatever the order, and answers 404/405', () => {
    const registry = new OperationRegistry();
    registry.add('plugin', op({ operationId: 'getUser', path: '/users/{username}' }));
    registry.add('plugin', op({ operationId: 'deleteUser', method: 'DELETE', path: '/users/{username}' }));
    registry.add('kernel', op({ operationId: 'getCurrentUser', path: '/users/current' }));
    registry.seal();
    const routes = registry.routes();
    assert.equal(matchRoute(routes, 'GET', '/users/current').route.operation.operationId, 'getCurrentUser');
    assert.equal(matchRoute(routes, 'HEAD', '/users/current').route.operation.operationId, 'getCurrentUser');
    const del = matchRoute(routes, 'DELETE', '/users/current');
    assert.equal(del.route.operation.operationId, 'deleteUser');
    assert.deepEqual(del.params, { username: 'current' });
    assert.deepEqual(matchRoute(routes, 'GET', '/users/a%2Fb').params, { username: 'a/b' });
    assert.throws(() => matchRoute(routes, 'GET', '/users'), (err: Error & { code?: string }) => err.code === 'NOT_FOUND');
    assert.throws(() => matchRoute(routes, 'POST', '/users/x'), (err: Error & { code?: string; allow?: string }) => err.code === 'METHOD_NOT_ALLOWED' && err.allow === 'GET, DELETE, HEAD');
  });
});
