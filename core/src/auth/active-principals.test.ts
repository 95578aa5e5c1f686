import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANONYMOUS, type Principal } from '@wharf/sdk';
import { createHooks } from '../hooks/index.js';
import { ActivePrincipals } from './active-principals.js';

const user = (subject: string, over: Partial<Principal> = {}): Principal => ({ subject, kind: 'user', provider: 'db', groups: [], admin: false, ...over });

function setup(ttlSeconds = 5) {
  const hooks = createHooks();
  const asked: string[] = [];
  const gone = new Set<string>();
  hooks.auth.active.tapPromise('db', async (p) => {
    if (p.provider !== 'db') return undefined;
    asked.push(p.subject);
    if (p.subject === 'broken') throw new Error('database down');
    return !gone.has(p.subject) && !(p.admin && p.subject === 'demoted');
  });
  let clock = 1_000_000;
  const active = new ActivePrincipals({ hooks: hooks.auth, ttlSeconds, now: () => clock });
  return { active, asked, gone, tick: (ms: number) => (clock += ms) };
}

describe('active principals', () => {
  it('asks auth.active once per principal within the window, then again', async () => {
    const { active, asked, gone, tick } = setup();
    assert.equal(await active.isActive(user('ann')), true);
    assert.equal(await active.isActive(user('ann')), true);
    gone.add('ann');
    assert.equal(await active.isActive(user('ann')), true, 'the cached answer, inside the window');
    tick(5001);
    assert.equal(await active.isActive(user('ann')), false);
    assert.deepEqual(asked, ['ann', 'ann']);
  });

  it('keys answers by admin flag and claims too, and shares one question among concurrent callers', async () => {
    const { active, asked } = setup();
    assert.equal(await active.isActive(user('demoted')), true);
    assert.equal(await active.isActive(user('demoted', { admin: true })), false);
    assert.equal(await active.isActive(user('demoted', { claims: { passwordChangedAt: 1 } })), true);
    assert.equal(asked.length, 3);
    const answers = await Promise.all(Array.from({ length: 5 }, () => active.isActive(user('burst'))));
    assert.ok(answers.every((a) => a));
    assert.equal(asked.filter((s) => s === 'burst').length, 1);
  });

  it('keeps anonymous and unclaimed principals active, never caches a failure, and asks every time with a zero window', async () => {
    const { active, asked } = setup(0);
    assert.equal(await active.isActive(ANONYMOUS), true);
    assert.equal(await active.isActive(user('lee', { provider: 'ldap' })), true);
    await assert.rejects(active.isActive(user('broken')), /database down/);
    await assert.rejects(active.isActive(user('broken')), /database down/);
    await active.isActive(user('ann'));
    await active.isActive(user('ann'));
    assert.deepEqual(asked, ['broken', 'broken', 'ann', 'ann']);
  });
});
