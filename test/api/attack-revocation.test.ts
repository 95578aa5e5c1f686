import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '@wharf/core';
import { createTestDatabase, type TestDatabase } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, basic, call, fetchToken, refresh } from './support/api-kit.js';
import { startNode } from './support/node.js';
import { testDatabaseNames } from './support/server.js';

/**
 * Credentials that must stop working when they are replaced: refresh tokens (what `docker
 * login` keeps for 7 days) and cached logins of a user whose password changed, or of a robot
 * whose secret was refreshed. Two registry nodes share one database (and the data directory's
 * signing key): a change made through one node counts at once on both, and after a restart.
 */

const ADMIN = basic('admin', ADMIN_PASSWORD);
const SCOPE = 'repository:revoke/app:pull,push';

const node = (dataDir: string, db: TestDatabase) => startNode(dataDir, db, { auth: [{ db: {} }], rbac: { projects: {} } });

/** What a token request answers: status and granted actions. */
async function grant(url: string, auth: string): Promise<{ status: number; actions: string[] }> {
  const res = await fetch(`${url}/service/token?service=wharf&scope=${encodeURIComponent(SCOPE)}`, { headers: { authorization: auth } });
  const text = await res.text();
  if (res.status !== 200) return { status: res.status, actions: [] };
  const token = (JSON.parse(text) as { token: string }).token;
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { access: { actions: string[] }[] };
  return { status: 200, actions: claims.access[0]?.actions ?? [] };
}

for (const database of testDatabaseNames()) {
  describe(`attack: revocation of replaced credentials (${database})`, () => {
    let dataDir: string;
    let db: TestDatabase;
    let a: RunningServer;
    let b: RunningServer;
    before(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-revoke-'));
      db = await createTestDatabase(database);
      a = await node(dataDir, db);
      b = await node(dataDir, db);
      assert.equal((await call(a.url, 'POST', '/api/v1/projects', { auth: ADMIN, body: { name: 'revoke', public: false } })).status, 201);
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await db?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    it("a robot's refreshed secret revokes its refresh tokens and cached logins at once, on every node", async () => {
      const created = await call(a.url, 'POST', '/api/v1/projects/revoke/robots', {
        auth: ADMIN,
        body: { name: 'ci', duration: -1, permissions: [{ kind: 'project', namespace: 'revoke', access: [{ resource: 'repository', action: 'pull' }, { resource: 'repository', action: 'push' }] }] },
      });
      assert.equal(created.status, 201, created.text);
      const name = created.body.robot.name as string;
      const oldSecret = created.body.secret as string;
      const id = created.body.robot.id as number;
      const oldAuth = basic(name, oldSecret);
      // Logins on both nodes: each node's credential cache now holds the old secret.
      assert.deepEqual(await grant(a.url, oldAuth), { status: 200, actions: ['pull', 'push'] });
      assert.deepEqual(await grant(b.url, oldAuth), { status: 200, actions: ['pull', 'push'] });
      const refreshA = (await fetchToken(a.url, name, oldSecret, { offline: true })).refresh_token ?? '';
      assert.ok(refreshA);
      assert.equal(await refresh(b.url, refreshA), 200, 'the control: the refresh token works on the other node');

      const rotated = await call(a.url, 'POST', `/api/v1/projects/revoke/robots/${id}/secret`, { auth: ADMIN });
      assert.equal(rotated.status, 200, rotated.text);
      const newSecret = rotated.body.secret as string;
      assert.notEqual(newSecret, oldSecret);

      for (const node of [a, b]) {
        assert.equal(await refresh(node.url, refreshA), 401, `old refresh token on ${node.url}`);
        assert.equal((await grant(node.url, oldAuth)).status, 401, `old secret (cached login) on ${node.url}`);
        assert.equal((await call(node.url, 'GET', '/v2/', { auth: oldAuth })).status, 401, `old secret on /v2/ at ${node.url}`);
        assert.deepEqual(await grant(node.url, basic(name, newSecret)), { status: 200, actions: ['pull', 'push'] });
      }
      const refreshNew = (await fetchToken(b.url, name, newSecret, { offline: true })).refresh_token ?? '';
      assert.equal(await refresh(a.url, refreshNew), 200, 'a refresh token of the new secret works');
    });

    it("a user's password change revokes refresh tokens issued before, on every node and after a restart", async () => {
      assert.equal((await call(a.url, 'POST', '/api/v1/users', { auth: ADMIN, body: { username: 'rhea', password: 'Rhea-Pass-1' } })).status, 201);
      assert.equal((await call(a.url, 'POST', '/api/v1/projects/revoke/members', { auth: ADMIN, body: { memberUser: { username: 'rhea' }, roleId: 2 } })).status, 201);
      const oldAuth = basic('rhea', 'Rhea-Pass-1');
      assert.equal((await grant(b.url, oldAuth)).status, 200);
      const token = (await fetchToken(a.url, 'rhea', 'Rhea-Pass-1', { offline: true })).refresh_token ?? '';
      assert.equal(await refresh(b.url, token), 200, 'the control');

      const changed = await call(b.url, 'PUT', '/api/v1/users/rhea/password', { auth: oldAuth, body: { oldPassword: 'Rhea-Pass-1', newPassword: 'Rhea-Pass-2' } });
      assert.equal(changed.status, 204, changed.text);
      for (const node of [a, b]) {
        assert.equal(await refresh(node.url, token), 401, `old refresh token on ${node.url}`);
        assert.equal((await grant(node.url, oldAuth)).status, 401, `old password on ${node.url}`);
      }
      await b.close();
      b = await node(dataDir, db);
      assert.equal(await refresh(b.url, token), 401, 'after a restart');
      const fresh = (await fetchToken(b.url, 'rhea', 'Rhea-Pass-2', { offline: true })).refresh_token ?? '';
      assert.equal(await refresh(a.url, fresh), 200);
    });
  });
}
