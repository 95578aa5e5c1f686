import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selectedDatabases } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, basic, bearer, call, startApiRegistry, type ApiRegistry, type ApiResponse } from './support/api-kit.js';

/**
 * Why a registry request was refused reaches the client and the log (issue 16, item 6): the
 * projects RBAC plugin's reason is the OCI error message on `/v2/` with Basic credentials, in the
 * token service's answer (`denied`, and the token's `denied` claim) and in the `/v2/` answer to a
 * Bearer token that lacks the access. A private project reads exactly like a missing one to
 * anyone who may not see it.
 */

const PASSWORD = 'Reason-Pass-123';
const ADMIN = basic('admin', ADMIN_PASSWORD);

for (const database of selectedDatabases()) {
  describe(`denial reasons (${database})`, () => {
    let reg: ApiRegistry;
    const logs: string[] = [];

    before(async () => {
      reg = await startApiRegistry(database, { overrides: { rbac: { projects: {} } }, logs });
      for (const username of ['gina', 'sam']) {
        const res = await call(reg.url, 'POST', '/api/v1/users', { auth: ADMIN, body: { username, password: PASSWORD } });
        assert.equal(res.status, 201, res.text);
      }
      assert.equal((await call(reg.url, 'POST', '/api/v1/projects', { auth: ADMIN, body: { name: 'demo', public: false } })).status, 201);
      const member = await call(reg.url, 'POST', '/api/v1/projects/demo/members', { auth: ADMIN, body: { memberUser: { username: 'gina' }, roleId: 3 } });
      assert.equal(member.status, 201, member.text);
    });
    after(() => reg?.close());

    const startUpload = (repo: string, auth?: string) => call(reg.url, 'POST', `/v2/${repo}/blobs/uploads/`, auth ? { auth } : {});
    const message = (res: ApiResponse): string => String(res.body?.errors?.[0]?.message);
    const token = async (auth: string | undefined, scope: string) => {
      const res = await call(reg.url, 'GET', `/service/token?service=wharf&scope=${encodeURIComponent(scope)}`, auth ? { auth } : {});
      assert.equal(res.status, 200, res.text);
      return res.body as { token: string; denied?: { name: string; action: string; reason: string }[] };
    };

    it('Basic credentials: DENIED says what the role allows, and a one-segment name how to name it', async () => {
      const guest = await startUpload('demo/app', basic('gina', PASSWORD));
      assert.equal(guest.status, 403, guest.text);
      assert.equal(guest.body.errors[0].code, 'DENIED');
      assert.equal(message(guest), 'requested access to the resource is denied: your role in "demo" is guest: it may pull, not push');
      const single = await startUpload('alpine', ADMIN);
      assert.equal(single.status, 403, single.text);
      assert.match(message(single), /repository "alpine" has no project: name it <project>\/<name>/);
      const missing = await startUpload('nosuch/app', ADMIN);
      assert.match(message(missing), /: project "nosuch" does not exist$/, 'administrators may know a project is missing');
    });

    it('a non-member gets the same answer for a private project as for a missing one', async () => {
      const sam = basic('sam', PASSWORD);
      const privateOne = await startUpload('demo/app', sam);
      const missing = await startUpload('nosuch/app', sam);
      assert.equal(privateOne.status, missing.status);
      assert.equal(message(privateOne).replace('"demo"', '"nosuch"'), message(missing));
      assert.equal(message(missing), 'requested access to the resource is denied: project "nosuch" does not exist or you are not a member of it');
      const pulls = await Promise.all(['demo', 'nosuch'].map((p) => call(reg.url, 'GET', `/v2/${p}/app/manifests/v1`, { auth: sam })));
      assert.equal(message(pulls[0]!).replace('"demo"', '"nosuch"'), message(pulls[1]!));
    });

    it('the token flow: the token service says why, and /v2/ repeats it to the client', async () => {
      const granted = await token(basic('gina', PASSWORD), 'repository:demo/app:pull,push');
      assert.deepEqual(granted.denied, [{ type: 'repository', name: 'demo/app', action: 'push', reason: 'your role in "demo" is guest: it may pull, not push' }]);
      const res = await startUpload('demo/app', bearer(granted.token));
      assert.equal(res.status, 401, res.text);
      assert.equal(res.body.errors[0].code, 'UNAUTHORIZED');
      assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
      // A HEAD answer has no body: clients print the challenge's error_description instead.
      const head = await call(reg.url, 'HEAD', '/v2/nosuch/app/blobs/sha256:' + '0'.repeat(64), { auth: bearer((await token(basic('sam', PASSWORD), 'repository:nosuch/app:pull')).token) });
      assert.equal(head.status, 401);
      assert.match(head.headers.get('www-authenticate') ?? '', /,error_description="project 'nosuch' does not exist or you are not a member of it"$/);
      assert.equal(message(res), 'token does not grant the requested access: your role in "demo" is guest: it may pull, not push');
    });

    it('anonymous tokens: a private project and a missing one read the same', async () => {
      const answers: string[] = [];
      for (const project of ['demo', 'nosuch']) {
        const anon = await token(undefined, `repository:${project}/app:pull`);
        assert.equal(anon.denied?.[0]?.reason, `project "${project}" does not exist or is private: log in`);
        const res = await call(reg.url, 'GET', `/v2/${project}/app/manifests/v1`, { auth: bearer(anon.token) });
        assert.equal(res.status, 401, res.text);
        answers.push(message(res).replace(`"${project}"`, '"X"'));
      }
      assert.equal(answers[0], answers[1]);
      assert.match(answers[0]!, /project "X" does not exist or is private: log in/);
    });

    it('every refusal is logged with its reason', () => {
      const denied = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'access denied' || l.msg === 'access not granted');
      const guest = denied.find((l) => l.subject === 'gina' && l.action === 'push');
      assert.equal(guest?.reason, 'your role in "demo" is guest: it may pull, not push', JSON.stringify(denied));
      assert.ok(denied.some((l) => l.subject === 'sam' && String(l.reason).includes('you are not a member')), JSON.stringify(denied));
      assert.ok(denied.some((l) => l.msg === 'access not granted' && l.kind === 'anonymous'), 'the token service logs what it left out');
    });
  });
}
