import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { MetadataStore } from './types.js';
import { forEachDatabase } from '@wharf/sdk-testing/databases';
import { digestOf, manifestInput, openStore } from './test-support.js';

const SBOM = 'application/vnd.example.sbom+json';
const SIGNATURE = 'application/vnd.example.signature';

forEachDatabase((_name, create) => {
  let store: MetadataStore;
  before(async () => {
    const db = await create();
    store = openStore(db.config);
    await store.migrate();
  });
  after(async () => {
    await store.close();
  });

  it('lists the manifests that name a subject, with and without an artifact type', async () => {
    const subject = manifestInput('ref/app', 'subject', { tag: 'v1' });
    await store.putManifest(subject);
    const sbom = manifestInput('ref/app', 'sbom', {
      artifactType: SBOM,
      subject: subject.digest,
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', ünïcode: '✓' },
    });
    const signature = manifestInput('ref/app', 'signature', { artifactType: SIGNATURE, subject: subject.digest });
    const plain = manifestInput('ref/app', 'plain referrer', { subject: subject.digest });
    const elsewhere = manifestInput('ref/other', 'elsewhere', { artifactType: SBOM, subject: subject.digest });
    for (const m of [sbom, signature, plain, elsewhere]) assert.equal((await store.putManifest(m)).ok, true);

    const all = await store.listReferrers('ref/app', subject.digest, undefined);
    assert.deepEqual(
      all.map((r) => r.digest),
      [sbom.digest, signature.digest, plain.digest],
    );
    assert.deepEqual(all[0], {
      digest: sbom.digest,
      mediaType: sbom.mediaType,
      artifactType: SBOM,
      size: sbom.payload.length,
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z', ünïcode: '✓' },
    });
    assert.equal(all[2]?.artifactType, undefined);
    assert.equal(all[2]?.annotations, undefined);

    const sboms = await store.listReferrers('ref/app', subject.digest, SBOM);
    assert.deepEqual(sboms.map((r) => r.digest), [sbom.digest]);
    assert.deepEqual(await store.listReferrers('ref/app', subject.digest, 'application/none'), []);
    assert.deepEqual(await store.listReferrers('ref/app', digestOf('unknown'), undefined), []);
    assert.deepEqual(await store.listReferrers('ref/none', subject.digest, undefined), []);
  });

  it('accepts referrers before their subject and drops them with deleteManifest', async () => {
    const subject = digestOf('not pushed yet');
    const early = manifestInput('ref/early', 'early', { artifactType: SIGNATURE, subject });
    assert.deepEqual(await store.putManifest(early), { ok: true, created: true });
    assert.deepEqual((await store.listReferrers('ref/early', subject, SIGNATURE)).map((r) => r.digest), [early.digest]);
    assert.equal(await store.deleteManifest('ref/early', early.digest), true);
    assert.deepEqual(await store.listReferrers('ref/early', subject, undefined), []);
  });
});
