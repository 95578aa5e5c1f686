import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachDatabase, pushBlob, pushImage, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
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

    it('of concurrent first pushes of a protected tag with different digests, on both nodes, exactly one stores it', async () => {
      await a.get(tagImmutabilityServiceRef).create('race', { priority: 0, enabled: true, repositories: allRepositories, tags: [glob('r*')] }, 'alice');
      await sleep(RECHECK_MS + 50);
      for (let round = 0; round < 4; round++) {
        const images = [0, 1, 2, 3].map((i) => tinyImage({ text: `${name} race ${round} ${i}\n` }));
        const nodes = [a, b, a, b];
        // Blobs first, so that only the manifest PUTs race.
        for (const [i, image] of images.entries()) {
          for (const blob of [image.config, ...image.layers]) await pushBlob(nodes[i]!.url, 'race/app', blob);
        }
        const answers = await Promise.all(
          images.map(async (image, i) => {
            const res = await fetch(`${nodes[i]!.url}/v2/race/app/manifests/r${round}`, { method: 'PUT', headers: { 'content-type': image.manifest.mediaType }, body: image.manifest.bytes });
            return { status: res.status, body: (await res.json().catch(() => undefined)) as { errors?: { code: string; message: string }[] } | undefined };
          }),
        );
        const won = answers.flatMap((x, i) => (x.status === 201 ? [i] : []));
        assert.equal(won.length, 1, `round ${round}: one push stores the tag, got ${JSON.stringify(answers.map((x) => x.status))}`);
        const winner = images[won[0]!]!;
        for (const [i, x] of answers.entries()) {
          if (i === won[0]) continue;
          assert.equal(x.status, 403, JSON.stringify(x.body));
          assert.equal(x.body?.errors?.[0]?.code, 'DENIED');
          assert.match(x.body?.errors?.[0]?.message ?? '', new RegExp(`tag race/app:r${round} is immutable .*points to ${winner.manifest.digest}`));
        }
        const head = await fetch(`${b.url}/v2/race/app/manifests/r${round}`, { method: 'HEAD', headers: { accept: winner.manifest.mediaType } });
        assert.equal(head.headers.get('docker-content-digest'), winner.manifest.digest, 'the tag points at the winner');
      }
    });
  });
});
