import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { coreServices, createServiceRef, definePlugin, Type, type ArtifactService, type EventEnvelope } from '@wharf/sdk';
import { selectedDatabases } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, assertEnvelope, basic, call, sleep, startApiRegistry, type ApiRegistry } from './support/api-kit.js';
import { OciClient, withQuery } from './support/client.js';
import { imageParts, OCI_MANIFEST, sha256 } from './support/oci.js';

/**
 * Durable events through a real registry: a plugin's consumer receives the registry's events
 * (push, blob commits, pull, tag delete) and management events (registry endpoints, policies)
 * with actor and request; the events API shows each consumer's backlog and dead deliveries,
 * retries them, and is for system administrators only.
 */

const received: EventEnvelope[] = [];
/** The kernel's artifacts service, handed over by the test plugin (pull times are read through it). */
let artifacts: ArtifactService | undefined;
const probeRef = createServiceRef<ArtifactService>({ id: 'event-consumers.artifacts' });
let failPulls = true;

describe('durable events over HTTP', () => {
  // MySQL runs the outbox's own tests (core/src/events); here two databases keep the file quick.
  for (const database of selectedDatabases().filter((d) => d !== 'mysql')) {
    describe(database, () => {
      let registry: ApiRegistry;
      let client: OciClient;
      const admin = basic('admin', ADMIN_PASSWORD);

      before(async () => {
        received.length = 0;
        failPulls = true;
        registry = await startApiRegistry(database, {
          plugins: [consumerPlugin()],
          overrides: { events: { pollIntervalMs: 50 }, extensions: { 'event-consumers': {}, replication: {} } },
        });
        client = new OciClient(registry.url);
      });
      after(async () => registry?.close());

      const authed = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...(init.headers as Record<string, string>), authorization: admin } });

      it('hands registry and management events to a plugin consumer, with who did it', async () => {
        const image = imageParts('events');
        const repo = 'library/evented';
        for (const blob of [image.config, image.layer]) {
          const start = await client.fetch(`/v2/${repo}/blobs/uploads/`, authed({ method: 'POST' }));
          assert.equal(start.status, 202);
          const put = await client.fetch(withQuery(start.headers.get('location')!, { digest: sha256(blob) }), authed({ method: 'PUT', body: blob }));
          assert.equal(put.status, 201, await put.text());
        }
        const pushed = await client.fetch(`/v2/${repo}/manifests/v1`, authed({ method: 'PUT', body: image.body, headers: { 'content-type': OCI_MANIFEST } }));
        assert.equal(pushed.status, 201, await pushed.text());
        const digest = pushed.headers.get('docker-content-digest');
        const beforePull = Date.now();
        const pulled = await client.fetch(`/v2/${repo}/manifests/v1`, authed({ headers: { accept: OCI_MANIFEST } }));
        assert.equal(pulled.status, 200);
        // The pull time is buffered with other pulls and stored within events.pullFlushMs.
        const pulledAt = await until(async () => (await artifacts!.getArtifact(repo, 'v1'))?.pulledAt);
        assert.ok(pulledAt.getTime() >= beforePull - 1000, `pulledAt ${String(pulledAt)}`);
        const endpoint = await call(registry.url, 'POST', '/api/v1/registries', { auth: admin, body: { name: 'events-mirror', url: 'http://127.0.0.1:9' }, headers: { 'user-agent': 'events-test' } });
        assert.equal(endpoint.status, 201, endpoint.text);
        const deleted = await client.fetch(`/v2/${repo}/manifests/v1`, authed({ method: 'DELETE' }));
        assert.equal(deleted.status, 202);

        await until(() => received.some((e) => e.type === 'management.registry.created') && received.some((e) => e.type === 'registry.tag.deleted'));
        const types = received.map((e) => e.type);
        assert.deepEqual(types.filter((t) => t.startsWith('registry.')), ['registry.blob.committed', 'registry.blob.committed', 'registry.manifest.pushed', 'registry.tag.deleted']);
        const push = received.find((e) => e.type === 'registry.manifest.pushed')!;
        assert.deepEqual(push.data, { repository: repo, digest, tag: 'v1', mediaType: OCI_MANIFEST, artifactType: 'application/vnd.oci.image.config.v1+json', size: image.body.length });
        assert.equal(push.partition, repo);
        assert.deepEqual(push.actor, { subject: 'admin', kind: 'user', provider: 'db' });
        assert.match(push.request?.requestId ?? '', /.+/);
        assert.equal(push.request?.ip, '127.0.0.1');
        const created = received.find((e) => e.type === 'management.registry.created')!;
        assert.deepEqual(created.data, { resource: 'registry', id: 'events-mirror' });
        assert.equal(created.request?.userAgent, 'events-test');
        // Pulls reach the pull consumer, which fails them until told otherwise.
        const status = await until(async () => {
          const res = await call(registry.url, 'GET', '/api/v1/events/consumers', { auth: admin });
          assert.equal(res.status, 200, res.text);
          const pulls = (res.body as Array<{ name: string; dead: number }>).find((c) => c.name === 'test-pulls');
          return pulls && pulls.dead === 1 ? res.body as Array<Record<string, unknown>> : undefined;
        });
        const pulls = status.find((c) => c['name'] === 'test-pulls')!;
        assert.equal(pulls['lastError'], 'pull receiver down');
        assert.deepEqual(pulls['types'], ['registry.artifact.pulled']);
        const dead = await call(registry.url, 'GET', '/api/v1/events/consumers/test-pulls/deliveries?q=status%3Ddead', { auth: admin });
        assert.equal(dead.status, 200);
        assert.equal(dead.body[0].type, 'registry.artifact.pulled');
        assert.equal(dead.body[0].attempts, 2);

        failPulls = false;
        const retried = await call(registry.url, 'POST', '/api/v1/events/consumers/test-pulls/retry', { auth: admin, body: {} });
        assert.equal(retried.status, 200, retried.text);
        assert.deepEqual(retried.body, { retried: 1 });
        await until(() => received.some((e) => e.type === 'registry.artifact.pulled'));
        const pull = received.find((e) => e.type === 'registry.artifact.pulled')!;
        assert.deepEqual(pull.data, { repository: repo, digest, reference: 'v1', mediaType: OCI_MANIFEST, count: 1 });
      });

      it('records user management events and logins, with the actor, never a password', async () => {
        const from = received.length;
        const create = await call(registry.url, 'POST', '/api/v1/users', { auth: admin, body: { username: 'evt-user', password: 'Evt-Passw0rd-1' } });
        assert.equal(create.status, 201, create.text);
        const wrong = await call(registry.url, 'GET', '/api/v1/users/current', { auth: basic('evt-user', 'not-the-password') });
        assert.equal(wrong.status, 401);
        const right = await call(registry.url, 'GET', '/api/v1/users/current', { auth: basic('evt-user', 'Evt-Passw0rd-1') });
        assert.equal(right.status, 200, right.text);
        const pw = await call(registry.url, 'PUT', '/api/v1/users/evt-user/password', { auth: admin, body: { newPassword: 'Evt-Passw0rd-2' } });
        assert.equal(pw.status, 204, pw.text);
        const gone = await call(registry.url, 'DELETE', '/api/v1/users/evt-user', { auth: admin });
        assert.equal(gone.status, 204, gone.text);
        const missing = await call(registry.url, 'DELETE', '/api/v1/users/evt-user', { auth: admin });
        assert.equal(missing.status, 404, 'deleting nobody changes nothing and records nothing');
        await until(() => received.slice(from).some((e) => e.type === 'management.user.deleted'));
        const mine = received.slice(from).filter((e) => e.type.startsWith('management.user.') || e.type.startsWith('auth.login.'));
        assert.deepEqual(mine.map((e) => e.type), [
          'management.user.created', 'auth.login.failed', 'auth.login.succeeded', 'management.user.updated', 'management.user.deleted',
        ]);
        assert.deepEqual(mine[3]!.data, { resource: 'user', id: 'evt-user', changes: { password: 'reset' } });
        assert.deepEqual(mine[0]!.actor, { subject: 'admin', kind: 'user', provider: 'db' });
        assert.equal(mine[1]!.actor, undefined, 'a refused login has no actor');
        assert.deepEqual(mine[1]!.data, { username: 'evt-user', via: 'api', reason: 'invalid credentials' });
        assert.deepEqual(mine[2]!.actor, { subject: 'evt-user', kind: 'user', provider: 'db' });
        assert.ok(!JSON.stringify(mine).includes('Evt-Passw0rd'), 'no password in any event');
      });

      it('lets only system administrators read consumers or retry deliveries', async () => {
        const user = await call(registry.url, 'POST', '/api/v1/users', { auth: admin, body: { username: 'event-peeker', password: 'Peeker-Passw0rd-1' } });
        assert.equal(user.status, 201, user.text);
        const peeker = basic('event-peeker', 'Peeker-Passw0rd-1');
        assertEnvelope(await call(registry.url, 'GET', '/api/v1/events/consumers', { auth: peeker }), 403, 'FORBIDDEN');
        assertEnvelope(await call(registry.url, 'GET', '/api/v1/events/consumers'), 401, 'UNAUTHORIZED');
        assertEnvelope(await call(registry.url, 'POST', '/api/v1/events/consumers/test-pulls/retry', { auth: peeker, body: {} }), 403, 'FORBIDDEN');
        assertEnvelope(await call(registry.url, 'GET', '/api/v1/events/consumers/nosuch/deliveries', { auth: admin }), 404, 'NOT_FOUND');
        assertEnvelope(await call(registry.url, 'GET', '/api/v1/events/consumers/test-pulls/deliveries?q=status%3Dlost', { auth: admin }), 400, 'BAD_REQUEST');
      });
    });
  }
});

describe('management events of projects, members and robots', () => {
  let registry: ApiRegistry;
  const admin = basic('admin', ADMIN_PASSWORD);
  before(async () => {
    received.length = 0;
    registry = await startApiRegistry('sqlite', {
      plugins: [consumerPlugin()],
      overrides: { events: { pollIntervalMs: 50 }, extensions: { 'event-consumers': {} }, rbac: { projects: {} } },
    });
  });
  after(async () => registry?.close());

  it('records each change in order in the project partition, and a refused change records nothing', async () => {
    const ok = async (method: string, path: string, body?: unknown, status = 201) => {
      const res = await call(registry.url, method, `/api/v1${path}`, { auth: admin, ...(body === undefined ? {} : { body }) });
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      return res.body;
    };
    await ok('POST', '/users', { username: 'evt-dev', password: 'Evt-Dev-Passw0rd-1' });
    await ok('POST', '/projects', { name: 'evt-proj' });
    const dup = await call(registry.url, 'POST', '/api/v1/projects', { auth: admin, body: { name: 'evt-proj' } });
    assert.equal(dup.status, 409);
    const member = await ok('POST', '/projects/evt-proj/members', { memberUser: { username: 'evt-dev' }, roleId: 2 });
    await ok('PUT', `/projects/evt-proj/members/${member.id}`, { roleId: 3 }, 200);
    const robot = await ok('POST', '/projects/evt-proj/robots', { name: 'ci', permissions: [{ kind: 'project', namespace: 'evt-proj', access: [{ resource: 'repository', action: 'pull' }] }] });
    await ok('POST', `/projects/evt-proj/robots/${robot.robot.id}/secret`, undefined, 200);
    await ok('DELETE', `/projects/evt-proj/robots/${robot.robot.id}`, undefined, 204);
    await ok('DELETE', `/projects/evt-proj/members/${member.id}`, undefined, 204);
    await ok('DELETE', '/projects/evt-proj', undefined, 204);
    await until(() => received.some((e) => e.type === 'management.project.deleted'));
    const project = received.filter((e) => e.partition === 'project:evt-proj');
    assert.deepEqual(project.map((e) => e.type), [
      'management.project.created', 'management.member.created', 'management.member.updated', 'management.robot.created',
      'management.robot.updated', 'management.robot.deleted', 'management.member.deleted', 'management.project.deleted',
    ]);
    assert.deepEqual(project[4]!.data, { resource: 'robot', id: robot.robot.name, project: 'evt-proj', changes: { secret: 'refreshed' } });
    assert.deepEqual(project[2]!.data, { resource: 'member', id: String(member.id), project: 'evt-proj', changes: { kind: 'user', name: 'evt-dev', role: 3 } });
    assert.ok(!JSON.stringify(received).includes(robot.secret), 'no robot secret in any event');
  });
});

/** Two consumers: every registry and management event except pulls, and pulls alone (failing). */
function consumerPlugin() {
  return definePlugin({
    id: 'event-consumers',
    kind: 'extension',
    version: '0.0.0',
    kernel: '^0.1.0',
    configSchema: Type.Object({}),
    register(ctx) {
      ctx.provide(probeRef, { deps: { artifacts: coreServices.artifacts }, factory: ({ artifacts: a }) => (artifacts = a) });
      ctx.events.subscribe({
        name: 'test-everything',
        types: ['registry.manifest.*', 'registry.tag.*', 'registry.blob.*', 'management.*', 'auth.*'],
        // Typed deps: the handler gets the plugin's own service, built.
        deps: { probe: probeRef },
        handle: async ({ event }, { probe }) => {
          assert.equal(probe, artifacts, 'the consumer gets the service its deps name');
          received.push(event);
        },
      });
      ctx.events.subscribe({
        name: 'test-pulls',
        types: ['registry.artifact.pulled'],
        maxAttempts: 2,
        backoffMs: 20,
        handle: async ({ event }) => {
          if (failPulls) throw new Error('pull receiver down');
          received.push(event);
        },
      });
    },
  });
}


async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out; received: ${JSON.stringify(received.map((e) => e.type))}`);
    await sleep(30);
  }
}
