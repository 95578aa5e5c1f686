import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachDatabase, pushImage, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { tagImmutabilityPlugin } from './index.js';
import { RuleLimitError } from './rule-store.js';
import { tagImmutabilityServiceRef } from './services.js';
import { tryDelete, tryPush } from './test-support.js';

// The rule store on each database, and two nodes sharing it: node A writes rules, node B (which
// rechecks the version every 100 ms) enforces them without a restart.

const RECHECK_MS = 100;
const glob = (pattern: string) => ({ kind: 'doublestar' as const, decoration: 'matches' as const, pattern });
const allRepositories = [{ kind: 'doublestar' as const, decoration: 'repoMatches' as const, pattern: '**' }];

forEachDatabase((name, create) => {
  describe(`rules on ${name}, two nodes`, () => {
    let a: TestRegistry;
    let b: TestRegistry;
    before(async () => {
      const db = await create();
      const config = (recheckMs: number) => ({ database: db.config, extensions: { 'tag-immutability': { recheckMs, maxRulesPerProject: 3 } } });
      a = await startTestRegistry({ plugins: [tagImmutabilityPlugin], config: config(60_000) });
      b = await startTestRegistry({ plugins: [tagImmutabilityPlugin], config: config(RECHECK_MS) });
    });
    after(async () => {
      await b?.close();
      await a?.close();
    });

    it('stores, orders, updates and deletes rules; refuses past the limit', async () => {
      const rules = a.get(tagImmutabilityServiceRef);
      const low = await rules.create('store', { priority: 5, enabled: true, repositories: allRepositories, tags: [glob('v*')] }, 'alice');
      const high = await rules.create('store', { priority: 1, enabled: false, repositories: allRepositories, tags: [glob('release-*'), { kind: 'regex', decoration: 'excludes', pattern: '.*-rc[0-9]+' }] }, 'bob');
      assert.deepEqual((await rules.list('store')).map((r) => r.id), [high.id, low.id], 'priority order');
      const read = await rules.get('store', high.id);
      assert.equal(read?.enabled, false);
      assert.equal(read?.creator, 'bob');
      assert.deepEqual(read?.tags[1], { kind: 'regex', decoration: 'excludes', pattern: '.*-rc[0-9]+' });
      assert.equal((await rules.update('store', high.id, { enabled: true }))?.enabled, true);
      assert.equal(await rules.update('store', 99_999, { enabled: true }), undefined);
      assert.equal(await rules.update('other', high.id, { enabled: true }), undefined, 'a rule is reached through its project only');
      await rules.create('store', { priority: 0, enabled: true, repositories: allRepositories, tags: [glob('x')] }, 'alice');
      await assert.rejects(rules.create('store', { priority: 0, enabled: true, repositories: allRepositories, tags: [glob('y')] }, 'alice'), RuleLimitError);
      assert.equal((await rules.remove('store', low.id))?.id, low.id);
      assert.equal(await rules.remove('store', low.id), undefined);
      assert.equal((await rules.list('store')).length, 2);
      assert.equal(await rules.protectingRule('store/app', 'release-1'), high.id);
      assert.equal(await rules.protectingRule('store/app', 'release-1-rc2'), undefined);
      assert.equal(await rules.protectingRule('elsewhere/app', 'release-1'), undefined);
    });

    it('a rule written on one node is enforced on the other within recheckMs, and lifted the same way', async () => {
      const v1 = tinyImage({ text: `${name} v1\n` });
      const v2 = tinyImage({ text: `${name} v2\n` });
      await pushImage(b.url, 'twin/app', 'v1', v1);
      // B caches "no rules" for the project now.
      assert.equal((await tryPush(b.url, 'twin/app', 'v1', v1)).status, 201);
      const rule = await a.get(tagImmutabilityServiceRef).create('twin', { priority: 0, enabled: true, repositories: allRepositories, tags: [glob('v*')] }, 'alice');
      await sleep(RECHECK_MS + 50);
      const refused = await tryPush(b.url, 'twin/app', 'v1', v2);
      assert.equal(refused.status, 403);
      assert.equal(refused.body?.errors?.[0]?.code, 'DENIED');
      assert.match(refused.body?.errors?.[0]?.message ?? '', new RegExp(`tag twin/app:v1 is immutable \\(immutability rule ${rule.id} of project twin\\)`));
      assert.equal((await tryPush(b.url, 'twin/app', 'v1', v1)).status, 201, 'the same digest again changes nothing');
      assert.equal((await tryDelete(b.url, 'twin/app', 'v1')).status, 403);

      await a.get(tagImmutabilityServiceRef).update('twin', rule.id, { enabled: false });
      await sleep(RECHECK_MS + 50);
      assert.equal((await tryPush(b.url, 'twin/app', 'v1', v2)).status, 201, 'disabled: the tag moves');
    });
  });
});
