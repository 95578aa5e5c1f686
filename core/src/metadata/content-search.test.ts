import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Knex } from 'knex';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { searchContent } from './content-search.js';
import { createKnex, KnexMetadataStore } from './index.js';
import type { StoreContext } from './sql.js';
import { manifestInput, silentLogger } from './test-support.js';

/**
 * The registry-wide content search on each database: the namespace filter is the exact first
 * segment (`team` never admits `team-b/` or `teams/`), several namespace chunks merge into the
 * order and bound one query gives, tags match case-insensitively, digests by prefix, and `LIKE`
 * wildcards are literal.
 */
forEachDatabase((name, create) => {
  let store: KnexMetadataStore;
  let knex: Knex;
  let ctx: StoreContext;
  const digests: Record<string, string> = {};

  before(async () => {
    const db = await create();
    knex = createKnex(db.config, silentLogger);
    store = new KnexMetadataStore(knex, silentLogger, { now: () => 1_000 });
    await store.migrate();
    ctx = { knex, dialect: db.config.client, now: () => 1_000 };
    for (const [repository, tag] of [['team/app', 'v1'], ['team-b/app', 'V1-RC'], ['teams/app', 'v1'], ['zoo/app_x', 'latest'], ['alpha/web', 'v1.0']] as const) {
      const input = manifestInput(repository, `${repository}:${tag}`, { tag });
      assert.deepEqual(await store.putManifest(input), { ok: true, created: true });
      digests[repository] = input.digest;
    }
  });
  after(() => store.close());

  it(`${name}: filters on the exact project, merges chunks in order within the bound`, async () => {
    const only = await searchContent(ctx, { text: 'app', namespaces: ['team'], limit: 10 });
    assert.deepEqual(only.repositories.map((r) => r.name), ['team/app']);
    const all = await searchContent(ctx, { text: 'APP', limit: 10 });
    assert.deepEqual(all.repositories.map((r) => r.name), ['team-b/app', 'team/app', 'teams/app', 'zoo/app_x']);
    const chunked = await searchContent(ctx, { text: 'app', namespaces: ['zoo', 'teams', 'team', 'team-b'], limit: 3 }, 1);
    assert.deepEqual(chunked.repositories.map((r) => r.name), ['team-b/app', 'team/app', 'teams/app'], 'one chunk per namespace, merged and bounded');
    assert.deepEqual((await searchContent(ctx, { text: 'app', namespaces: [], limit: 10 })).repositories, []);
  });

  it(`${name}: finds tags case-insensitively, digests by prefix, and treats wildcards literally`, async () => {
    const tags = await searchContent(ctx, { text: 'v1', namespaces: ['team', 'team-b', 'alpha'], limit: 10 });
    assert.deepEqual(tags.tags.map((t) => `${t.repository}:${t.tag}`).sort(), ['alpha/web:v1.0', 'team-b/app:V1-RC', 'team/app:v1']);
    assert.equal(tags.tags.find((t) => t.repository === 'team/app')?.digest, digests['team/app']);
    const hex = digests['zoo/app_x']!.slice('sha256:'.length, 'sha256:'.length + 8);
    for (const text of [hex, `sha256:${hex}`, hex.toUpperCase()]) {
      assert.deepEqual((await searchContent(ctx, { text, limit: 10 })).digests.map((d) => [d.repository, d.digest]), [['zoo/app_x', digests['zoo/app_x']]]);
    }
    assert.deepEqual((await searchContent(ctx, { text: hex, namespaces: ['team'], limit: 10 })).digests, []);
    assert.deepEqual((await searchContent(ctx, { text: 'p_x', limit: 10 })).repositories.map((r) => r.name), ['zoo/app_x']);
    assert.deepEqual((await searchContent(ctx, { text: 'p_', limit: 10 })).repositories.map((r) => r.name), ['zoo/app_x'], '_ matches only an underscore');
    assert.deepEqual((await searchContent(ctx, { text: '%', limit: 10 })).repositories, []);
    await assert.rejects(searchContent(ctx, { text: ' ', limit: 10 }), RangeError);
    await assert.rejects(searchContent(ctx, { text: 'a', limit: 0 }), RangeError);
  });
});
