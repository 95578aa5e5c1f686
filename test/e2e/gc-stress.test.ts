import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { coreServices } from '@wharf/sdk';
import type { S3Client } from '@aws-sdk/client-s3';
import { createTestDatabase, selectedDatabases, startTestRegistry, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { gcPlugin, gcServiceRef, purgeUploads } from '@wharf/plugin-gc';
import { storageS3Plugin } from '@wharf/plugin-storage-s3';
import { countCommands, listLeftovers, startS3rver, type S3rverHandle } from '@wharf/plugin-storage-s3/test-support';

// Online GC under load (issue 13): four clients push and delete images that share layers, and
// mount them across repositories, while collections run back to back with a grace window of 0
// for WHARF_GC_STRESS_SECONDS (default 60). A client that loses a race (its manifest names a
// layer a collection took first) pushes again, as real clients do. Afterwards every manifest
// the registry lists pulls in full with verified digests, no unreferenced blob is left, and
// storage holds nothing the database does not know. On fs and on S3 (s3rver), on PostgreSQL
// when it is selected (real concurrent transactions), else the first selected database.

const SECONDS = Number(process.env['WHARF_GC_STRESS_SECONDS'] ?? 60);
const CLIENTS = 4;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Blob {
  readonly digest: string;
  readonly bytes: Buffer;
}
const blobOf = (bytes: Buffer): Blob => ({ digest: sha(bytes), bytes });
/** Four shared base layers: every image carries one, so most pushes find theirs already there. */
const BASES = Array.from({ length: 4 }, (_, i) => blobOf(Buffer.concat([Buffer.from(`base ${i} `), randomBytes(2048)])));

const databaseName = () => (selectedDatabases().includes('postgres') ? 'postgres' : selectedDatabases()[0]!);

async function ok(res: Response, expected: number[], what: string): Promise<Response> {
  if (expected.includes(res.status)) return res;
  throw Object.assign(new Error(`${what}: ${res.status} ${await res.text()}`), { status: res.status });
}

/** Pushes one blob unless the repository has it (HEAD), mounting it from `from` when given. */
async function pushBlob(url: string, repo: string, blob: Blob, from?: string): Promise<void> {
  const head = await fetch(`${url}/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' });
  if (head.status === 200) return;
  const mount = from ? `?mount=${blob.digest}&from=${from}` : '';
  const started = await ok(await fetch(`${url}/v2/${repo}/blobs/uploads/${mount}`, { method: 'POST' }), [201, 202], `POST upload ${repo}`);
  await started.arrayBuffer();
  if (started.status === 201) return;
  const location = new URL(started.headers.get('location')!, url);
  location.searchParams.set('digest', blob.digest);
  const put = await fetch(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: blob.bytes });
  await (await ok(put, [201], `PUT blob ${repo}`)).arrayBuffer();
}

async function client(url: string, n: number, deadline: number, stats: { pushed: number; retried: number; deleted: number }): Promise<void> {
  let i = 0;
  while (Date.now() < deadline) {
    i++;
    const repo = `stress/c${n}-${i % 3}`;
    const base = BASES[(n + i) % BASES.length]!;
    const layer = blobOf(Buffer.concat([Buffer.from(`c${n} i${i} `), randomBytes(512)]));
    const config = blobOf(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [base.digest, layer.digest] }, n, i })));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.bytes.length },
      layers: [base, layer].map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: b.digest, size: b.bytes.length })),
    }));
    for (let attempt = 1; ; attempt++) {
      try {
        // Mount the base from a neighbour's repository now and then (it may be gone: then it uploads).
        await pushBlob(url, repo, base, i % 4 === 0 ? `stress/c${(n + 1) % CLIENTS}-0` : undefined);
        await pushBlob(url, repo, layer);
        await pushBlob(url, repo, config);
        const put = await fetch(`${url}/v2/${repo}/manifests/t${i}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: manifest });
        await (await ok(put, [201], `PUT manifest ${repo}`)).arrayBuffer();
        stats.pushed++;
        break;
      } catch (err) {
        // A collection took a layer between our HEAD and our manifest (window 0): push again.
        const status = (err as { status?: number }).status;
        if (attempt >= 20 || (status !== 400 && status !== 404 && status !== 503)) throw err;
        stats.retried++;
      }
    }
    if (i % 2 === 0) {
      const del = await fetch(`${url}/v2/${repo}/manifests/${sha(manifest)}`, { method: 'DELETE' });
      await (await ok(del, [202], `DELETE ${repo}`)).arrayBuffer();
      stats.deleted++;
    }
  }
}

async function verify(registry: TestRegistry): Promise<{ manifests: number; blobs: number }> {
  const artifacts = registry.get(coreServices.artifacts);
  const blobs = registry.get(coreServices.blobs);
  const storage = registry.get(coreServices.storage);
  let manifests = 0;
  const checked = new Set<string>();
  let cursor: string | undefined;
  do {
    const repos = await artifacts.listRepositories({ limit: 100, cursor });
    for (const repo of repos.items) {
      let ac: string | undefined;
      do {
        const page = await artifacts.listArtifacts(repo.name, { limit: 1000, cursor: ac });
        for (const a of page.items) {
          const res = await fetch(`${registry.url}/v2/${repo.name}/manifests/${a.digest}`, { headers: { accept: OCI_MANIFEST } });
          assert.equal(res.status, 200, `${repo.name}@${a.digest}`);
          const body = Buffer.from(await res.arrayBuffer());
          assert.equal(sha(body), a.digest);
          const doc = JSON.parse(body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
          for (const d of [doc.config.digest, ...doc.layers.map((l) => l.digest)]) {
            const blob = await fetch(`${registry.url}/v2/${repo.name}/blobs/${d}`);
            assert.equal(blob.status, 200, `${repo.name} blob ${d} of ${a.digest}`);
            assert.equal(sha(Buffer.from(await blob.arrayBuffer())), d, `blob ${d} intact`);
            checked.add(d);
          }
          manifests++;
        }
        ac = page.next;
      } while (ac !== undefined);
    }
    cursor = repos.next;
  } while (cursor !== undefined);
  // Nothing unreferenced remains (the clients stopped before the last collection began).
  assert.deepEqual((await blobs.listUnreferenced(new Date(Date.now() + 1000))).items.map((b) => b.digest), []);
  // Storage holds only blobs the database records.
  const recorded = new Set<string>();
  let bc: string | undefined;
  do {
    const page = await blobs.list({ limit: 1000, cursor: bc });
    for (const b of page.items) recorded.add(b.digest);
    bc = page.next;
  } while (bc !== undefined);
  for await (const stored of storage.list()) assert.ok(recorded.has(stored.digest), `${stored.digest} in storage but not in the database`);
  return { manifests, blobs: checked.size };
}

/**
 * `breathMs`: the pause between collections. A push that loses a layer to a collection (window
 * 0) pushes again; on S3 a push takes several requests a blob while a collection deletes a
 * batch in two, so back-to-back collections there could starve a client on a loaded machine.
 */
async function stress(registry: TestRegistry, breathMs = 300): Promise<void> {
  const gc = registry.get(gcServiceRef);
  const deadline = Date.now() + SECONDS * 1000;
  const stats = { pushed: 0, retried: 0, deleted: 0 };
  let runs = 0;
  let freed = 0;
  const collect = async () => {
    const record = await gc.store.create({ trigger: 'cli', requestedBy: 'stress', options: { dryRun: false, deleteUntagged: false, untaggedOlderThanDays: 0, workers: 4, graceWindowMinutes: 0 } });
    assert.equal(await gc.collector.run(record.id), true);
    const done = (await gc.store.get(record.id))!;
    assert.equal(done.status, 'succeeded', done.error ?? '');
    runs++;
    freed += done.blobsDeleted;
  };
  const collector = (async () => {
    // Back to back with a short breath, so pushes (layers first, manifest last) can win some races.
    while (Date.now() < deadline) {
      await collect();
      await new Promise((r) => setTimeout(r, breathMs));
    }
  })();
  await Promise.all([...Array.from({ length: CLIENTS }, (_, n) => client(registry.url, n, deadline, stats)), collector]);
  await collect();
  const seen = await verify(registry);
  assert.ok(stats.pushed > 20 && runs > 5 && freed > 0, `too little happened: ${JSON.stringify({ ...stats, runs, freed })}`);
  assert.ok(seen.manifests > 0);
  console.log(`gc stress: ${JSON.stringify({ ...stats, runs, blobsFreed: freed, manifestsVerified: seen.manifests, blobsVerified: seen.blobs })}`);
}

describe(`online GC under concurrent pushes, deletes and mounts (${SECONDS} s each)`, { timeout: (SECONDS * 2 + 120) * 1000 }, () => {
  const open: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const o of open.reverse()) await o.close().catch(() => undefined);
  });
  const base = (db: TestDatabase) => ({
    database: { ...db.config },
    auth: [],
    rbac: {},
    token: { enabled: false },
    registry: { deleteEnabled: true },
    extensions: { gc: { graceWindowMinutes: 0, uploads: { schedule: null } } },
  });

  it('on fs', async () => {
    const db = await createTestDatabase(databaseName());
    const registry = await startTestRegistry({ config: base(db), plugins: [gcPlugin] });
    open.push(registry);
    await stress(registry);
  });

  it('on S3 (s3rver)', async () => {
    const s3: S3rverHandle = await startS3rver();
    open.push({ close: () => s3.stop() });
    await s3.createBucket('gc-stress');
    const db = await createTestDatabase(databaseName());
    const registry = await startTestRegistry({
      config: { ...base(db), storage: { s3: { bucket: 'gc-stress', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } } },
      plugins: [gcPlugin, storageS3Plugin],
    });
    open.push(registry);
    await stress(registry, 1500);
  });

  it('the upload purge aborts an idle upload\'s S3 multipart upload', async () => {
    const s3 = await startS3rver();
    open.push({ close: () => s3.stop() });
    await s3.createBucket('gc-purge');
    const db = await createTestDatabase(databaseName());
    const registry = await startTestRegistry({
      config: { ...base(db), storage: { s3: { bucket: 'gc-purge', endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', partSize: 5 * 1024 * 1024 } } },
      plugins: [gcPlugin, storageS3Plugin],
    });
    open.push(registry);
    const { client } = registry.get(coreServices.storage) as unknown as { client: S3Client };
    const calls = countCommands(client);
    const started = await fetch(`${registry.url}/v2/purge/app/blobs/uploads/`, { method: 'POST' });
    assert.equal(started.status, 202);
    const location = new URL(started.headers.get('location')!, registry.url);
    const patched = await fetch(location, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream' }, body: randomBytes(6 * 1024 * 1024) });
    assert.equal(patched.status, 202, await patched.text());
    assert.equal(calls.counts.get('CreateMultipartUpload'), 1, 'a full part started a multipart upload');
    assert.ok((await listLeftovers(client, 'gc-purge', '')).length > 0);
    calls.reset();
    assert.equal(await purgeUploads(registry.get(coreServices.uploads), new Date(Date.now() + 1000), false), 1);
    assert.equal(calls.counts.get('AbortMultipartUpload'), 1, 'the purge aborted the multipart upload');
    assert.deepEqual(await listLeftovers(client, 'gc-purge', ''), [], 'and left nothing in the bucket');
    assert.equal((await fetch(location)).status, 404);
  });
});

