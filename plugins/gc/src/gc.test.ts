import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { coreServices } from '@wharf/sdk';
import { basicAuth, forEachDatabase, pullBlob, pullManifest, pushImage, startTestRegistry, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { gcPlugin, gcServiceRef, purgeUploads } from './index.js';

/**
 * Garbage collection over real HTTP on each database: who may run and read it (system
 * administrators; a user and anonymous refused), a dry run's counts and the window's held-back
 * figure, a run that frees a deleted image's blobs and leaves a shared one, untagged artifacts,
 * the schedule, stop, history and log, and the upload purge.
 */

const ADMIN_PASSWORD = 'Admin-Passw0rd';
const basic = basicAuth;
const admin = basic('admin', ADMIN_PASSWORD);
const olaf = basic('olaf', 'Olaf-Passw0rd-1');

forEachDatabase((_name, create) => {
  let registry: TestRegistry;

  async function api(method: string, path: string, auth?: string, body?: unknown) {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${registry.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
  }
  async function finished(id: number) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await api('GET', `/system/gc/${id}`, admin);
      assert.equal(res.status, 200, res.text);
      if (!['queued', 'running'].includes(res.body.status)) return res.body;
      if (Date.now() > deadline) throw new Error(`gc ${id} did not finish: ${res.text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async function collect(body: Record<string, unknown>) {
    const started = await api('POST', '/system/gc', admin, body);
    assert.equal(started.status, 202, started.text);
    return finished(started.body.id);
  }
  const deleteManifest = async (repo: string, digest: string) => {
    const res = await fetch(`${registry.url}/v2/${repo}/manifests/${digest}`, { method: 'DELETE', headers: { authorization: admin } });
    assert.equal(res.status, 202, await res.text());
  };

  before(async () => {
    const db = await create();
    const saved = process.env.WHARF_ADMIN_PASSWORD;
    process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
    try {
      registry = await startTestRegistry({
        config: {
          database: { ...db.config },
          auth: [{ db: {} }],
          token: { enabled: true },
          rbac: { projects: {} },
          jobs: { pollIntervalMs: 50 },
          extensions: { gc: { graceWindowMinutes: 0, workers: 2 } },
        },
        plugins: [gcPlugin],
      });
    } finally {
      if (saved === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
      else process.env.WHARF_ADMIN_PASSWORD = saved;
    }
    assert.equal((await api('POST', '/users', admin, { username: 'olaf', password: 'Olaf-Passw0rd-1' })).status, 201);
    assert.equal((await api('POST', '/projects', admin, { name: 'lib' })).status, 201);
  });
  after(() => registry?.close());

  it('only system administrators run, read and schedule collections', async () => {
    for (const [method, path, body] of [
      ['POST', '/system/gc', {}],
      ['GET', '/system/gc', undefined],
      ['GET', '/system/gc/schedule', undefined],
      ['PUT', '/system/gc/schedule', { cron: '0 3 * * *' }],
      ['GET', '/system/gc/1', undefined],
      ['POST', '/system/gc/1/stop', undefined],
    ] as const) {
      assert.equal((await api(method, path, undefined, body)).status, 401, `${method} ${path} anonymous`);
      const denied = await api(method, path, olaf, body);
      assert.equal(denied.status, 403, `${method} ${path} as a user: ${denied.text}`);
      assert.equal(denied.body.errors[0].code, 'FORBIDDEN');
    }
    const allowed = await api('GET', '/system/gc', admin);
    assert.equal(allowed.status, 200, allowed.text);
  });

  it('a dry run counts what would go and what the window held back; a run frees it and keeps the rest pullable', async () => {
    const gone = tinyImage({ text: 'gc: to be deleted' });
    const kept = tinyImage({ text: 'gc: to be kept' });
    const pushed = await pushImage(registry.url, 'lib/gone', 'v1', gone, { authorization: admin });
    await pushImage(registry.url, 'lib/kept', 'v1', kept, { authorization: admin });
    await deleteManifest('lib/gone', pushed.digest);
    const bytes = gone.config.bytes.length + gone.layer.bytes.length;
    const storage = registry.get(coreServices.storage);

    const windowed = await collect({ dryRun: true, graceWindowMinutes: 600 });
    assert.equal(windowed.status, 'succeeded', JSON.stringify(windowed));
    assert.deepEqual([windowed.candidates, windowed.blobsDeleted, windowed.heldBack], [0, 0, 2], 'the window spares both new blobs and says so');

    const dry = await collect({ dryRun: true });
    assert.deepEqual([dry.status, dry.dryRun, dry.candidates, dry.blobsDeleted, dry.bytesFreed, dry.heldBack], ['succeeded', true, 2, 2, bytes, 0]);
    assert.ok(await storage.stat(gone.layer.digest), 'a dry run deletes nothing');

    const run = await collect({});
    assert.deepEqual([run.status, run.blobsDeleted, run.bytesFreed], ['succeeded', 2, bytes], JSON.stringify(run));
    assert.equal(await storage.stat(gone.layer.digest), undefined);
    assert.equal(await storage.stat(gone.config.digest), undefined);
    const pulled = await pullManifest(registry.url, 'lib/kept', 'v1', { authorization: admin });
    assert.equal(pulled.digest, kept.manifest.digest);
    assert.deepEqual(await pullBlob(registry.url, 'lib/kept', kept.layer.digest, { authorization: admin }), kept.layer.bytes);

    const log = await api('GET', `/system/gc/${run.id}/log`, admin);
    assert.equal(log.status, 200);
    assert.ok(log.body.some((l: { message: string }) => /deleted 2 blobs/.test(l.message)), log.text);
    const history = await api('GET', '/system/gc?page_size=100', admin);
    assert.ok(history.body.some((r: { id: number }) => r.id === run.id));
    assert.equal((await api('GET', '/system/gc/999999', admin)).status, 404);
    const again = await api('POST', `/system/gc/${run.id}/stop`, admin);
    assert.equal(again.status, 409, 'a finished run cannot be stopped');
  });

  it('deletes untagged artifacts when asked, through the content service', async () => {
    const first = tinyImage({ text: 'gc: first of a tag' });
    const second = tinyImage({ text: 'gc: second of a tag' });
    await pushImage(registry.url, 'lib/moving', 'latest', first, { authorization: admin });
    await pushImage(registry.url, 'lib/moving', 'latest', second, { authorization: admin });
    const plain = await collect({});
    assert.equal(plain.artifactsDeleted, 0, 'untagged artifacts stay unless asked');
    const run = await collect({ deleteUntagged: true });
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.artifactsDeleted, 1);
    assert.equal(run.blobsDeleted, 2, "the untagged image's config and layer go in the same run");
    const res = await fetch(`${registry.url}/v2/lib/moving/manifests/${first.manifest.digest}`, { headers: { authorization: admin } });
    assert.equal(res.status, 404);
    await pullManifest(registry.url, 'lib/moving', 'latest', { authorization: admin });
  });

  it('sets the schedule, refusing a bad cron', async () => {
    const initial = await api('GET', '/system/gc/schedule', admin);
    assert.deepEqual([initial.body.cron, initial.body.source], [null, 'config']);
    const bad = await api('PUT', '/system/gc/schedule', admin, { cron: 'every day ok' });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.body.errors[0].code, 'BAD_REQUEST');
    const set = await api('PUT', '/system/gc/schedule', admin, { cron: '0 3 * * 6' });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual([set.body.cron, set.body.source, set.body.updatedBy], ['0 3 * * 6', 'api', 'admin']);
    const off = await api('PUT', '/system/gc/schedule', admin, { cron: null });
    assert.deepEqual([off.body.cron, off.body.source], [null, 'api']);
  });

  it('purges idle uploads and frees their bytes', async () => {
    const started = await fetch(`${registry.url}/v2/lib/idle/blobs/uploads/`, { method: 'POST', headers: { authorization: admin } });
    assert.equal(started.status, 202);
    const location = new URL(started.headers.get('location')!, registry.url).href;
    const patched = await fetch(location, { method: 'PATCH', headers: { authorization: admin, 'content-type': 'application/octet-stream' }, body: Buffer.from('idle bytes') });
    assert.equal(patched.status, 202);
    const uploads = registry.get(coreServices.uploads);
    assert.equal(await purgeUploads(uploads, new Date(Date.now() - 3_600_000), false), 0, 'a fresh upload stays');
    assert.equal(await purgeUploads(uploads, new Date(Date.now() + 1000), true), 1, 'a dry run counts it');
    assert.equal(await purgeUploads(uploads, new Date(Date.now() + 1000), false), 1);
    const after = await fetch(location, { headers: { authorization: admin } });
    assert.equal(after.status, 404, 'the upload is gone');
  });

  it('runs one collection at a time across nodes, and a run finishes what a killed one claimed', async () => {
    const gc = registry.get(gcServiceRef);
    const blobs = registry.get(coreServices.blobs);
    const storage = registry.get(coreServices.storage);
    const image = tinyImage({ text: 'gc: claimed by a run that died' });
    const pushed = await pushImage(registry.url, 'lib/killed', 'v1', image, { authorization: admin });
    await deleteManifest('lib/killed', pushed.digest);
    // Another node holds the lock: this run changes nothing and says so.
    assert.equal(await gc.store.lock('another-node:1', 1, 60_000), true);
    const waiting = await gc.store.create({ trigger: 'cli', requestedBy: 'test', options: { dryRun: false, deleteUntagged: false, untaggedOlderThanDays: 0, workers: 1, graceWindowMinutes: 0 } });
    assert.equal(await gc.collector.run(waiting.id), false);
    assert.equal((await gc.store.get(waiting.id))?.status, 'queued');
    assert.equal(await gc.store.lockedBy(), 1);
    await gc.store.unlock('another-node:1');
    // A run killed between its claim and its storage delete: rows claimed, links gone, bytes there.
    const { knex } = registry.get(coreServices.database);
    await knex('repository_blobs').where('digest', image.layer.digest).delete();
    await knex('blobs').where('digest', image.layer.digest).update({ deleting_at: Date.now(), deleting_run: 'gc-dead' });
    assert.ok(await storage.stat(image.layer.digest));
    assert.deepEqual((await blobs.listUnreferenced(new Date(Date.now() + 1000))).items.map((b) => b.digest), [image.config.digest], 'a claimed blob is no candidate');
    assert.equal(await gc.collector.run(waiting.id), true);
    const done = (await gc.store.get(waiting.id))!;
    assert.deepEqual([done.status, done.blobsDeleted], ['succeeded', 2], JSON.stringify(done));
    assert.equal(await storage.stat(image.layer.digest), undefined);
    assert.equal(await blobs.stat(image.layer.digest), undefined);
    const log = await gc.store.logs(waiting.id);
    assert.ok(log.some((l) => /finished 1 deletions an interrupted run had claimed/.test(l.message)), JSON.stringify(log));
  });

  it('stops a queued collection (one waiting for the lock) and says so in the history', async () => {
    const gc = registry.get(gcServiceRef);
    assert.equal(await gc.store.lock('another-node:2', 2, 60_000), true);
    try {
      const started = await api('POST', '/system/gc', admin, { dryRun: true });
      assert.equal(started.status, 202, started.text);
      assert.equal(started.body.status, 'queued');
      const stopped = await api('POST', `/system/gc/${started.body.id}/stop`, admin);
      assert.equal(stopped.status, 200, stopped.text);
      assert.equal(stopped.body.status, 'stopped');
      assert.equal((await api('POST', `/system/gc/${started.body.id}/stop`, admin)).status, 409);
    } finally {
      await gc.store.unlock('another-node:2');
    }
  });

  it('sorts the history with sort= across pages (default newest first); refuses an unknown field', async () => {
    const ids = async (query: string) => {
      const res = await api('GET', `/system/gc?${query}`, admin);
      assert.equal(res.status, 200, res.text);
      return res.body as { id: number; bytesFreed: number; status: string }[];
    };
    const newest = (await ids('page_size=100')).map((r) => r.id);
    assert.ok(newest.length >= 4, `${newest.length} runs`);
    assert.deepEqual(newest, [...newest].sort((a, b) => b - a), 'newest first by default');
    assert.deepEqual((await ids('sort=id&page_size=100')).map((r) => r.id), [...newest].reverse());
    assert.deepEqual((await ids('sort=id&page_size=2&page=2')).map((r) => r.id), [...newest].reverse().slice(2, 4), 'the second page continues the order');
    const byBytes = await ids('sort=-bytesFreed,id&page_size=100');
    for (let i = 1; i < byBytes.length; i++) {
      const [a, b] = [byBytes[i - 1]!, byBytes[i]!];
      assert.ok(a.bytesFreed > b.bytesFreed || (a.bytesFreed === b.bytesFreed && a.id < b.id), JSON.stringify(byBytes));
    }
    assert.ok(byBytes[0]!.bytesFreed > 0, 'a run that freed bytes comes first');
    const refused = await api('GET', '/system/gc?sort=size', admin);
    assert.equal(refused.status, 400, refused.text);
    assert.match(refused.body.errors[0].message, /unknown field "size" \(this operation sorts by id, status, trigger, requestedAt, blobsDeleted, bytesFreed/);
  });
});
