import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOciError } from './support/client.js';
import { OCI_MANIFEST, descriptorOf, imageParts, manifestBody, sha256 } from './support/oci.js';
import { startTestRegistry, testDatabaseNames, type TestRegistry } from './support/server.js';

for (const database of testDatabaseNames()) {
  describe(`content discovery (${database})`, () => {
    let reg: TestRegistry;
    before(async () => (reg = await startTestRegistry(database)));
    after(() => reg.close());

    it('lists tags in order, paginated with n, last and a Link header', async () => {
      const repo = 'disc/tags';
      const image = imageParts('tags');
      const tags = ['v1', 'V2', 'alpha', 'beta', 'latest'];
      for (const tag of tags) await reg.client.pushImage(repo, tag, image);
      const all = await reg.client.fetch(`/v2/${repo}/tags/list`);
      assert.equal(all.status, 200);
      const sorted = [...tags].sort();
      assert.deepEqual(await all.json(), { name: repo, tags: sorted });
      assert.equal(all.headers.get('link'), null);
      const first = await reg.client.fetch(`/v2/${repo}/tags/list?n=2`);
      assert.deepEqual((await first.json() as { tags: string[] }).tags, sorted.slice(0, 2));
      assert.equal(first.headers.get('link'), `</v2/${repo}/tags/list?n=2&last=${sorted[1]}>; rel="next"`);
      const next = await reg.client.fetch(`/v2/${repo}/tags/list?n=2&last=${sorted[1]}`);
      assert.deepEqual((await next.json() as { tags: string[] }).tags, sorted.slice(2, 4));
      const rest = await reg.client.fetch(`/v2/${repo}/tags/list?n=10&last=${sorted[3]}`);
      assert.deepEqual((await rest.json() as { tags: string[] }).tags, sorted.slice(4));
      assert.equal(rest.headers.get('link'), null);
      const none = await reg.client.fetch(`/v2/${repo}/tags/list?n=0`);
      assert.deepEqual((await none.json() as { tags: string[] }).tags, []);
      await assertOciError(await reg.client.fetch('/v2/disc/unknown/tags/list'), 404, 'NAME_UNKNOWN');
    });

    it('lists the catalog with pagination', async () => {
      const image = imageParts('catalog');
      for (const repo of ['disc/cat-a', 'disc/cat-b', 'disc/cat-c']) await reg.client.pushImage(repo, 'v1', image);
      const all = await reg.client.fetch('/v2/_catalog');
      const repos = (await all.json() as { repositories: string[] }).repositories;
      assert.ok(['disc/cat-a', 'disc/cat-b', 'disc/cat-c'].every((r) => repos.includes(r)));
      assert.deepEqual(repos, [...repos].sort());
      const page = await reg.client.fetch('/v2/_catalog?n=1&last=disc/cat-a');
      assert.deepEqual(await page.json(), { repositories: ['disc/cat-b'] });
      assert.match(page.headers.get('link') ?? '', /^<\/v2\/_catalog\?n=1&last=disc%2Fcat-b>; rel="next"$/);
    });

    it('lists referrers of a subject, filtered by artifactType', async () => {
      const repo = 'disc/referrers';
      const image = imageParts('referred');
      await reg.client.pushImage(repo, 'v1', image);
      const empty = Buffer.from('{}');
      await reg.client.pushBlob(repo, empty);
      const make = (artifactType: string, n: number) => manifestBody({
        schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType,
        config: descriptorOf('application/vnd.oci.empty.v1+json', empty),
        layers: [descriptorOf('application/vnd.oci.empty.v1+json', empty)],
        subject: descriptorOf(OCI_MANIFEST, image.body),
        annotations: { n: String(n) },
      });
      const sig = make('application/vnd.example.signature', 1);
      const sbom = make('application/vnd.example.sbom', 2);
      for (const m of [sig, sbom]) assert.equal((await reg.client.putManifest(repo, m.digest, m.body, OCI_MANIFEST)).status, 201);

      const res = await reg.client.fetch(`/v2/${repo}/referrers/${image.digest}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
      const index = await res.json() as { schemaVersion: number; manifests: { digest: string; artifactType: string; size: number; annotations: Record<string, string> }[] };
      assert.equal(index.schemaVersion, 2);
      assert.deepEqual(index.manifests.map((m) => m.digest).sort(), [sig.digest, sbom.digest].sort());
      const found = index.manifests.find((m) => m.digest === sig.digest)!;
      assert.equal(found.artifactType, 'application/vnd.example.signature');
      assert.equal(found.size, sig.body.length);
      assert.deepEqual(found.annotations, { n: '1' });

      const filtered = await reg.client.fetch(`/v2/${repo}/referrers/${image.digest}?artifactType=application/vnd.example.sbom`);
      assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
      assert.deepEqual((await filtered.json() as { manifests: { digest: string }[] }).manifests.map((m) => m.digest), [sbom.digest]);

      const none = await reg.client.fetch(`/v2/${repo}/referrers/${sha256('no referrers')}`);
      assert.equal(none.status, 200);
      assert.deepEqual((await none.json() as { manifests: unknown[] }).manifests, []);
      await assertOciError(await reg.client.fetch(`/v2/${repo}/referrers/sha256:bad`), 400, 'DIGEST_INVALID');
    });

    it('reports an image config media type as the artifactType of a referrer without one', async () => {
      const repo = 'disc/referrers-config';
      const image = imageParts('referred-2');
      await reg.client.pushImage(repo, 'v1', image);
      const config = Buffer.from('{"kind":"attestation"}');
      await reg.client.pushBlob(repo, config);
      const ref = manifestBody({
        schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptorOf('application/vnd.example.config+json', config),
        layers: [], subject: descriptorOf(OCI_MANIFEST, image.body),
      });
      assert.equal((await reg.client.putManifest(repo, ref.digest, ref.body, OCI_MANIFEST)).status, 201);
      const index = await (await reg.client.fetch(`/v2/${repo}/referrers/${image.digest}`)).json() as { manifests: { artifactType: string }[] };
      assert.equal(index.manifests[0]?.artifactType, 'application/vnd.example.config+json');
    });
  });
}
