import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { forEachDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { coreServices } from '@wharf/sdk';
import { SESSIONS_TABLE } from './migrations.js';
import { SessionStore } from './sessions.js';
import { bootRegistry } from './test-support.js';

/** The session store on each database, with a clock the test moves: idle and absolute expiry, sweeping. */

forEachDatabase((_name, create) => {
  let registry: TestRegistry;
  before(async () => {
    registry = await bootRegistry(await create());
  });
  after(() => registry?.close());

  it('expires a session after its idle time or its lifetime, and stores only hashes', async () => {
    const database = registry.get(coreServices.database);
    let now = 1_000_000;
    const store = new SessionStore(database, { lifetimeMs: 10 * 60_000, idleMs: 3 * 60_000, now: () => now });
    const principal = { subject: 'ann', kind: 'user', provider: 'db', groups: ['g'], admin: false } as const;
    const a = await store.create(principal);
    const rows = await database.knex(SESSIONS_TABLE).select('*');
    assert.ok(!JSON.stringify(rows).includes(a.id) && !JSON.stringify(rows).includes(a.csrf), 'neither the cookie nor the CSRF token is stored');
    assert.deepEqual((await store.find(a.id))?.principal, principal);
    assert.ok(SessionStore.csrfMatches((await store.find(a.id))!, a.csrf));
    assert.ok(!SessionStore.csrfMatches((await store.find(a.id))!, 'x'.repeat(43)));
    now += 2 * 60_000;
    assert.ok(await store.find(a.id), 'used within the idle time');
    now += 2 * 60_000;
    assert.ok(await store.find(a.id), 'the last use counts, not the login');
    now += 3 * 60_000 + 1;
    assert.equal(await store.find(a.id), undefined, 'idle too long');

    const b = await store.create(principal);
    for (let i = 0; i < 5; i++) {
      now += 2 * 60_000;
      await store.find(b.id);
    }
    assert.equal(await store.find(b.id), undefined, 'past its lifetime even when used');
    const c = await store.create(principal);
    now += 11 * 60_000;
    assert.equal(await store.sweep(), 1);
    assert.equal(await store.find(c.id), undefined);
    const d = await store.create(principal);
    now += 3 * 60_000 + 1;
    assert.equal(await store.sweep(), 1, 'an idle session is swept before its lifetime ends');
    assert.equal(await store.find(d.id), undefined);
  });
});
