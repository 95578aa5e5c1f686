import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '@wharf/core';
import { createTestDatabase, type TestDatabase } from '@wharf/sdk-testing';
import { PEOPLE_DN, SEARCH_DN, SEARCH_PASSWORD, GROUPS_DN, startSlapd, type Slapd } from '@wharf/plugin-auth-ldap/test-support/slapd';
import { ADMIN_PASSWORD, basic } from './support/api-kit.js';
import { startNode } from './support/node.js';
import { testDatabaseNames } from './support/server.js';

/**
 * Password guessing against two registry nodes sharing one database: parallel guesses cannot
 * skip the failed-login slowdown (429 with Retry-After beyond the concurrency limits), the
 * counters are shared by the nodes, and every spelling of a user name counts for the same user.
 * Then, with LDAP before the database, the answer time does not tell which provider knows a name.
 */

const node = (dataDir: string, db: TestDatabase, auth: unknown[] = [{ db: {} }]) => startNode(dataDir, db, { auth, rbac: {} });

interface Attempt {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly ms: number;
}

async function login(url: string, user: string, password: string, ip: string): Promise<Attempt> {
  const t0 = performance.now();
  const res = await fetch(`${url}/service/token?service=wharf`, { headers: { authorization: basic(user, password), 'x-forwarded-for': ip } });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), ms: performance.now() - t0 };
}

for (const database of testDatabaseNames()) {
  describe(`attack: brute force against two nodes (${database})`, () => {
    let dataDir: string;
    let db: TestDatabase;
    let a: RunningServer;
    let b: RunningServer;
    before(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-brute-'));
      db = await createTestDatabase(database);
      a = await node(dataDir, db);
      b = await node(dataDir, db);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await db?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('answers parallel guesses for one user beyond the limit with 429 and Retry-After, across both nodes', async () => {
      const guesses = Array.from({ length: 40 }, (_, i) => login(i % 2 === 0 ? a.url : b.url, 'admin', `guess-${i}`, `198.51.100.${i + 1}`));
      const results = await Promise.all(guesses);
      const checked = results.filter((r) => r.status === 401);
      const limited = results.filter((r) => r.status === 429);
      assert.equal(checked.length + limited.length, 40, JSON.stringify(results.map((r) => r.status)));
      // token.loginConcurrencyPerUser is 4 for the whole cluster, not per node: a few more get
      // through only when a slot frees while the burst is still arriving.
      assert.ok(checked.length <= 12, `${checked.length} guesses were checked`);
      assert.ok(limited.length >= 28, `${limited.length} were refused`);
      for (const r of limited) assert.match(r.retryAfter ?? '', /^[1-9][0-9]*$/);
      assert.equal((await login(b.url, 'admin', ADMIN_PASSWORD, '198.51.100.200')).status, 200, 'the real user still gets in');
    });

    it('limits one address guessing many user names', async () => {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => login(i % 2 === 0 ? a.url : b.url, `sprayed-${i}`, 'Spray-Pw-1', '203.0.113.77')));
      const limited = results.filter((r) => r.status === 429);
      // token.loginConcurrencyPerAddress is 16.
      assert.ok(limited.length >= 20, `${limited.length} of 40 were refused`);
      assert.ok(results.every((r) => r.status === 401 || r.status === 429));
    });

    it('shares the slowdown between the nodes, for every spelling of the user name', async () => {
      for (const [i, spelling] of ['Dana', 'DANA', 'dana ', ' dana'].entries()) {
        const r = await login(i % 2 === 0 ? a.url : b.url, spelling, `wrong-${i}`, `192.0.2.${i + 1}`);
        assert.equal(r.status, 401);
      }
      // Four failures: the next check of dana, on either node, from a new address, waits 250*2^3 ms.
      const next = await login(b.url, 'dana', 'wrong-again', '192.0.2.99');
      assert.equal(next.status, 401);
      assert.ok(next.ms >= 1800, `the fifth guess waited ${Math.round(next.ms)} ms`);
    });
  });
}

describe('attack: which provider knows a user name, by answer time (LDAP before the database, sqlite)', () => {
  let slapd: Slapd;
  let dataDir: string;
  let db: TestDatabase;
  let reg: RunningServer;
  before(async () => {
    slapd = await startSlapd();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-oracle-'));
    db = await createTestDatabase('sqlite');
    const ldap = { url: slapd.url, bindDN: SEARCH_DN, bindPassword: SEARCH_PASSWORD, userBase: PEOPLE_DN, groups: { mode: 'search', base: GROUPS_DN } };
    reg = await node(dataDir, db, [{ ldap }, { db: {} }]);
  });
  after(async () => {
    await reg?.close();
    await slapd?.stop();
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('takes as long for an unknown name as for an LDAP user with a wrong password', async () => {
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const unknown: number[] = [];
    const known: number[] = [];
    // Each name is tried twice (the second time spelled with a trailing space), unknown and
    // known alike: the slowdown of a repeated name must add the same to both.
    for (let i = 0; i < 6; i++) {
      const u = await login(reg.url, `nobody-${i % 3}` + (i >= 3 ? ' ' : ''), 'Wrong-Pw-1', `10.20.0.${i + 1}`);
      const k = await login(reg.url, ['alice', 'bob', 'carol'][i % 3]! + (i >= 3 ? ' ' : ''), `Wrong-Pw-${i}`, `10.21.0.${i + 1}`);
      assert.equal(u.status, 401);
      assert.equal(k.status, 401);
      unknown.push(u.ms);
      known.push(k.ms);
    }
    const gap = Math.abs(median(unknown) - median(known));
    assert.ok(gap < 60, `unknown ${unknown.map(Math.round).join(',')} ms vs known ${known.map(Math.round).join(',')} ms`);
  });
});
