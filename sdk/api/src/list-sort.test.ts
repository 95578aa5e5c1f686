import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import knexFactory from 'knex';
import { isApiError } from './management-api.js';
import { compareBySort, orderBySort, parseSort, sortPattern } from './list-sort.js';

// No connection: knex only builds the SQL (no driver is loaded).
const knex = knexFactory({ client: 'pg' });

describe('list sort (sort=)', () => {
  it('parses fields and - for descending, in order; empty means the default order', () => {
    assert.deepEqual(parseSort('-createdAt,name', ['name', 'createdAt']), [
      { field: 'createdAt', descending: true },
      { field: 'name', descending: false },
    ]);
    assert.deepEqual(parseSort(undefined, ['name']), []);
    assert.deepEqual(parseSort('', ['name']), []);
  });

  it('refuses unknown, repeated and malformed fields with a BAD_REQUEST naming the allowed ones', () => {
    const refused = (raw: string, message: RegExp) =>
      assert.throws(() => parseSort(raw, ['name', 'createdAt']), (err: unknown) => isApiError(err) && err.status === 400 && message.test(err.message));
    refused('size', /unknown field "size" \(this operation sorts by name, createdAt; "-" for descending\)/);
    refused('name,-name', /"name" appears twice/);
    refused('name,,createdAt', /"" is not a field/);
    refused('--name', /not a field/);
    refused("name;drop table x", /not a field/);
  });

  it('maps keys to an ORDER BY through the column map, then the tie-breaker; values stay out of the SQL', () => {
    const q = orderBySort(knex('projects').select('id'), parseSort('-createdAt,name', ['name', 'createdAt']), { name: 'name', createdAt: 'created_at' });
    assert.equal(q.toSQL().sql, 'select "id" from "projects" order by "created_at" desc, "name" asc, "id" asc');
    const fallback = orderBySort(knex('projects'), [], { name: 'name' }, { fallback: [{ field: 'name', descending: false }] });
    assert.equal(fallback.toSQL().sql, 'select * from "projects" order by "name" asc, "id" asc');
    const byId = orderBySort(knex('t'), [{ field: 'id', descending: true }], { id: 'id' });
    assert.equal(byId.toSQL().sql, 'select * from "t" order by "id" desc', 'a key on the tie-breaker is not repeated');
    const raw = orderBySort(knex('r'), [{ field: 'count', descending: true }], { count: knex.raw('(select count(*) from m where m.r = r.id)') }, { tieBreaker: 'r.id' });
    assert.equal(raw.toSQL().sql, 'select * from "r" order by (select count(*) from m where m.r = r.id) desc, "r"."id" asc');
    assert.throws(() => orderBySort(knex('t'), [{ field: 'secret', descending: false }], { name: 'name' }), /no column for sort field "secret"/);
    assert.throws(() => orderBySort(knex('t'), [{ field: 'constructor', descending: false }], { name: 'name' }), /no column/);
  });

  it('compares in memory with the same rules (nulls last ascending, ties on the tie-breaker)', () => {
    const items = [
      { id: 3, name: 'b', at: null },
      { id: 1, name: 'a', at: new Date(2) },
      { id: 2, name: 'b', at: new Date(1) },
    ];
    const sorted = (raw: string) => [...items].sort(compareBySort(parseSort(raw, ['name', 'at']), { name: (i) => i.name, at: (i) => i.at }, { tieBreaker: (i) => i.id })).map((i) => i.id);
    assert.deepEqual(sorted('name'), [1, 2, 3]);
    assert.deepEqual(sorted('-name'), [2, 3, 1]);
    assert.deepEqual(sorted('at'), [2, 1, 3]);
    assert.deepEqual(sorted('-at'), [3, 1, 2]);
  });

  it('documents the accepted values as a pattern', () => {
    const pattern = new RegExp(sortPattern(['name', 'createdAt']));
    for (const ok of ['name', '-name', 'createdAt,-name']) assert.match(ok, pattern);
    for (const bad of ['size', 'name,', '-', 'name createdAt']) assert.doesNotMatch(bad, pattern);
  });
});
