import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { coreServices } from '@wharf/sdk';
import { forEachDatabase, pushImage, tinyImage, type TestRegistry } from '@wharf/sdk-testing';
import { admin, bootRegistry, call, eventually, sizedBlob, uploadBlob } from './test-support.js';

/**
 * Enforcement and accounting on every database, through `/v2/` as a client pushes: a blob
 * shared by two repositories of a project counts once; a blob upload, a cross-repository mount
 * and a manifest PUT past a limit are refused with DENIED and leave nothing behind; concurrent
 * uploads to one project never pass its limit together; deletes lower the usage.
 */

forEachDatabase((_name, create) => {
  let registry: TestRegistry;
  let url: string;
  const drop: Array<() => Promise<void>> = [];
  const api = (method: string, path: string, body?: unknown) => call(url, method, `/api/v1${path}`, { auth: admin, ...(body === undefined ? {} : { body }) });
  const quota = async (project: string) => (await api('GET', `/projects/${project}/quota`)).body as { hard: { storage: number; count: number }; used: { storage: number; count: number } };
  const setQuota = async (project: string, hard: Record<string, number>) => assert.equal((await api('PUT', `/projects/${project}/quota`, { hard })).status, 200);
  const auth = { authorization: admin };
  const image = tinyImage({ text: 'shared image\n' });
  const imageBytes = image.config.size + image.layers[0]!.size + image.manifest.size;

  before(async () => {
    const db = await create();
    drop.push(() => db.drop());
    registry = await bootRegistry(db);
    url = registry.url;
    for (const project of ['team', 'small', 'race']) assert.equal((await api('POST', '/projects', { name: project })).status, 201);
  });
  after(async () => {
    await registry?.close();
    for (const d of drop) await d();
  });

  describe('accounting', () => {
    it('counts a blob shared by two repositories of a project once, and each artifact', async () => {
      await pushImage(url, 'team/one', 'v1', image, auth);
      assert.deepEqual((await quota('team')).used, { storage: imageBytes, count: 1 });
      await pushImage(url, 'team/two', 'v1', image, auth);
      assert.deepEqual((await quota('team')).used, { storage: imageBytes, count: 2 });
      // The same manifest again under another tag is not a new artifact.
      await pushImage(url, 'team/two', 'v2', image, auth);
      assert.deepEqual((await quota('team')).used, { storage: imageBytes, count: 2 });
    });

    it('lowers the usage when artifacts and repositories are deleted, before any garbage collection', async () => {
      const other = tinyImage({ text: 'only in three\n' });
      await pushImage(url, 'team/three', 'v1', other, auth);
      const otherBytes = other.config.size + other.layers[0]!.size + other.manifest.size;
      assert.deepEqual((await quota('team')).used, { storage: imageBytes + otherBytes, count: 3 });
      const del = await fetch(`${url}/v2/team/three/manifests/${other.manifest.digest}`, { method: 'DELETE', headers: auth });
      assert.equal(del.status, 202);
      await eventually('usage after the delete', async () => {
        const used = (await quota('team')).used;
        return used.count === 2 && used.storage === imageBytes ? used : undefined;
      });
      // team/one still holds what team/two held: deleting one copy frees no bytes.
      const delTwo = await fetch(`${url}/v2/team/two/manifests/${image.manifest.digest}`, { method: 'DELETE', headers: auth });
      assert.equal(delTwo.status, 202);
      await eventually('usage after the shared delete', async () => {
        const used = (await quota('team')).used;
        return used.count === 1 && used.storage === imageBytes ? used : undefined;
      });
    });
  });

  describe('enforcement', () => {
    it('refuses a blob upload past the storage quota with DENIED, and discards its bytes', async () => {
      await setQuota('small', { storage: 5000 });
      assert.equal((await uploadBlob(url, 'small/app', sizedBlob('a', 3000), admin)).status, 201);
      const big = sizedBlob('b', 2500);
      const refused = await uploadBlob(url, 'small/app', big, admin);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.errors[0].code, 'DENIED');
      assert.equal(refused.body.errors[0].message, 'project small storage quota 4.88 KiB exceeded: in use 2.93 KiB, this blob 2.44 KiB');
      const head = await fetch(`${url}/v2/small/app/blobs/${big.digest}`, { method: 'HEAD', headers: auth });
      assert.equal(head.status, 404, 'the refused blob is not in the repository');
      const upload = await fetch(refused.location, { headers: auth });
      assert.equal(upload.status, 404, 'the refused upload is gone');
      assert.deepEqual((await quota('small')).used, { storage: 3000, count: 0 });
      // A blob the project already holds costs nothing, even at the limit.
      assert.equal((await uploadBlob(url, 'small/other', sizedBlob('a', 3000), admin)).status, 201);
    });

    it('refuses a cross-repository mount that brings a new blob past the quota', async () => {
      // A project of its own: 'team' is recomputed in the background after the deletes above
      // (settleSeconds 0 here), which would drop the charge of a blob no manifest holds yet.
      assert.equal((await api('POST', '/projects', { name: 'mounts' })).status, 201);
      const blob = sizedBlob('m', 4000);
      assert.equal((await uploadBlob(url, 'mounts/src', blob, admin)).status, 201);
      const res = await fetch(`${url}/v2/small/app/blobs/uploads/?mount=${blob.digest}&from=mounts/src`, { method: 'POST', headers: auth });
      const body = (await res.json()) as { errors: { code: string; message: string }[] };
      assert.equal(res.status, 403);
      assert.equal(body.errors[0]!.code, 'DENIED');
      assert.match(body.errors[0]!.message, /^project small storage quota 4\.88 KiB exceeded/);
      assert.equal((await fetch(`${url}/v2/small/app/blobs/${blob.digest}`, { method: 'HEAD', headers: auth })).status, 404);
      // Within one project a mount adds nothing: the project holds the blob already.
      await setQuota('mounts', { storage: (await quota('mounts')).used.storage });
      const inside = await fetch(`${url}/v2/mounts/dst/blobs/uploads/?mount=${blob.digest}&from=mounts/src`, { method: 'POST', headers: auth });
      assert.equal(inside.status, 201);
      await setQuota('mounts', { storage: -1 });
    });

    it('refuses a manifest PUT past the artifact count quota, storing nothing', async () => {
      await setQuota('small', { storage: -1, count: 1 });
      await pushImage(url, 'small/app', 'v1', tinyImage({ text: 'first\n' }), auth);
      const second = tinyImage({ text: 'second\n' });
      await assert.rejects(pushImage(url, 'small/app', 'v2', second, auth), (err: Error) => {
        assert.match(err.message, /403/);
        assert.match(err.message, /DENIED/);
        assert.match(err.message, /project small artifact count quota 1 exceeded: in use 1, this push 1 more/);
        return true;
      });
      const get = await fetch(`${url}/v2/small/app/manifests/v2`, { headers: { ...auth, accept: second.manifest.mediaType } });
      assert.equal(get.status, 404);
      assert.equal((await quota('small')).used.count, 1);
    });

    it('gives back the count of a manifest the registry refused after the gates (a blob it names is missing)', async () => {
      await setQuota('small', { count: -1 });
      const image = tinyImage({ text: 'layer never pushed\n' });
      const before = (await quota('small')).used;
      const res = await fetch(`${url}/v2/small/app/manifests/broken`, { method: 'PUT', headers: { ...auth, 'content-type': image.manifest.mediaType }, body: image.manifest.bytes });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, 'MANIFEST_BLOB_UNKNOWN');
      assert.equal((await quota('small')).used.count, before.count + 1, 'charged at the gate');
      // The recompute leaves what the project's artifacts hold: small/app:v1 (blobs uploaded
      // earlier without a manifest stop counting too).
      const first = tinyImage({ text: 'first\n' });
      const held = first.config.size + first.layers[0]!.size + first.manifest.size;
      await eventually('the charge given back', async () => {
        const used = (await quota('small')).used;
        return used.count === before.count && used.storage === held ? used : undefined;
      });
    });
  });

  describe('per repository', () => {
    it('refuses a blob or manifest that would take one repository past its quota; other repositories keep their room', async () => {
      assert.equal((await api('POST', '/projects', { name: 'repos' })).status, 201);
      await setQuota('repos', { repository_storage: 4000 });
      assert.equal((await uploadBlob(url, 'repos/a', sizedBlob('p', 3000), admin)).status, 201);
      const refused = await uploadBlob(url, 'repos/a', sizedBlob('q', 1500), admin);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.errors[0].code, 'DENIED');
      assert.equal(refused.body.errors[0].message, 'repository repos/a storage quota 3.91 KiB exceeded: in use 2.93 KiB, this blob 1.46 KiB');
      assert.equal((await uploadBlob(url, 'repos/b', sizedBlob('q', 1500), admin)).status, 201, 'another repository has its own room');
      // A blob the repository holds already costs nothing.
      assert.equal((await uploadBlob(url, 'repos/a', sizedBlob('p', 3000), admin)).status, 201);
      await setQuota('repos', { repository_storage: -1 });
      assert.equal((await uploadBlob(url, 'repos/a', sizedBlob('q', 1500), admin)).status, 201);
    });
  });

  describe('concurrency', () => {
    it('never lets concurrent uploads to one project pass its quota together', async () => {
      const size = 1000;
      await setQuota('race', { storage: 5 * size });
      const blobs = Array.from({ length: 12 }, (_, i) => sizedBlob(`r${i}`, size));
      const results = await Promise.all(blobs.map((b, i) => uploadBlob(url, `race/app${i % 3}`, b, admin)));
      const statuses = results.map((r) => r.status).sort();
      assert.equal(statuses.filter((s) => s === 201).length, 5, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 403).length, 7, statuses.join(','));
      assert.deepEqual((await quota('race')).used, { storage: 5 * size, count: 0 });
      const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
      for (const [i, r] of results.entries()) {
        const head = await fetch(`${url}/v2/race/app${i % 3}/blobs/${digest(blobs[i]!.bytes)}`, { method: 'HEAD', headers: auth });
        assert.equal(head.status, r.status === 201 ? 200 : 404);
      }
    });

    it('never lets concurrent uploads to one repository pass its repository quota together', async () => {
      const size = 1000;
      assert.equal((await api('POST', '/projects', { name: 'racerepo' })).status, 201);
      await setQuota('racerepo', { repository_storage: 4 * size + 500 });
      const blobs = Array.from({ length: 10 }, (_, i) => sizedBlob(`rr${i}`, size));
      // Two of them the same content: one admission, counted once.
      const results = await Promise.all([...blobs, blobs[0]!].map((b) => uploadBlob(url, 'racerepo/app', b, admin)));
      const stored = results.filter((r) => r.status === 201).length;
      for (const r of results.filter((x) => x.status !== 201)) {
        assert.equal(r.status, 403, JSON.stringify(r.body));
        assert.equal(r.body.errors[0].code, 'DENIED');
        assert.match(r.body.errors[0].message, /^repository racerepo\/app storage quota 4.39 KiB exceeded/);
      }
      const held = (await registry.get(coreServices.artifacts).getRepository('racerepo/app'))?.size;
      assert.equal(held, 4 * size, `4 distinct blobs fit, the rest are refused (${stored} of 11 uploads answered 201)`);
      // Room again once the limit is raised: the refusals left nothing admitted behind.
      await setQuota('racerepo', { repository_storage: 5 * size });
      assert.equal((await uploadBlob(url, 'racerepo/app', sizedBlob('rr-last', size), admin)).status, 201);
    });
  });
});
