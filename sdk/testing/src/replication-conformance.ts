import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  isReplicationTargetError,
  type Digest,
  type RemoteManifest,
  type ReplicationEndpoint,
  type ReplicationTarget,
  type ReplicationTargetErrorCode,
} from '@wharf/sdk';
import { seededStream } from './fixtures/seeded-bytes.js';
import { collect, digestOf, hashStream, streamOf } from './fixtures/streams.js';

const MiB = 1024 * 1024;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' as Digest;

/**
 * Options of {@link runReplicationTargetConformance}.
 * @since 0.1.0
 */
export interface ReplicationConformanceOptions {
  /** Title of the `describe` block, e.g. `oci adapter → distribution 2.8 (htpasswd)`. */
  readonly name: string;
  /** The endpoint of a running registry; its credentials (if any) may pull, push, delete and list the catalog. */
  endpoint(): ReplicationEndpoint;
  /** Opens a target for an endpoint, as the adapter's `replication.target` tap would. */
  open(endpoint: ReplicationEndpoint): ReplicationTarget | Promise<ReplicationTarget>;
  /**
   * Whether the registry checks credentials. `true`: wrong credentials must be refused with
   * UNAUTHORIZED. `false` (an open registry): they must be ignored, as such registries do.
   */
  readonly authenticates: boolean;
  /**
   * Where referrers come from: `api` (the registry has `GET /v2/<name>/referrers/<digest>`), or
   * `tag-schema` (it has none, as distribution 2.8: the adapter keeps the `sha256-<hex>` tag).
   */
  readonly referrers: 'api' | 'tag-schema';
  /** Whether the registry deletes a tag alone; distribution 2.x cannot, and the adapter must say UNSUPPORTED. */
  readonly deletesTags: boolean;
  /** First segment of every repository the suite creates (default `conformance`); a random one follows. */
  readonly namespace?: string | undefined;
  /** Size of the seeded blob the streamed and chunked tests move (default 5 MiB + 123 bytes). */
  readonly blobBytes?: number | undefined;
}

/** A port of 127.0.0.1 nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

function sha256(bytes: Buffer): Digest {
  return digestOf(bytes) as Digest;
}

/** Asserts a ReplicationTargetError with `code` (and, when given, `retryable`). */
function targetError(code: ReplicationTargetErrorCode, retryable?: boolean): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isReplicationTargetError(err), `expected a ReplicationTargetError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, `${err.message}`);
    if (retryable !== undefined) assert.equal(err.retryable, retryable, `retryable of ${err.message}`);
    assert.ok(err.message.length > 0);
    return true;
  };
}

/** A manifest as the adapter moves it: exact bytes with their digest. */
function manifestOf(payload: Buffer, mediaType: string): RemoteManifest {
  return { digest: sha256(payload), mediaType, size: payload.length, payload };
}

/**
 * Registers the replication target conformance suite: one `describe` with a test per guarantee
 * of the {@link ReplicationTarget} contract, run against a real registry. Call it at the top
 * level of a test file, after the registry is started in a `before` of the file, or pass
 * functions that read handles set there:
 *
 * ```ts
 * runReplicationTargetConformance({
 *   name: 'oci → distribution', endpoint: () => ({ name: 'd', type: 'oci', url: registry.url }),
 *   open: (endpoint) => new OciTarget(endpoint), authenticates: false, referrers: 'tag-schema', deletesTags: false,
 * });
 * ```
 *
 * Repositories are created under `<namespace>/<random>-...`, so runs never collide; the suite
 * deletes the manifests it pushed (by digest) where it can, but registries keep blobs until their
 * own garbage collection.
 * @since 0.1.0
 */
export function runReplicationTargetConformance(options: ReplicationConformanceOptions): void {
  const run = `${options.namespace ?? 'conformance'}/${randomBytes(4).toString('hex')}`;
  const repo = (name: string) => `${run}-${name}`;
  const blobBytes = options.blobBytes ?? 5 * MiB + 123;
  const opened: ReplicationTarget[] = [];
  let primary: ReplicationTarget | undefined;

  const open = async (endpoint: ReplicationEndpoint): Promise<ReplicationTarget> => {
    const target = await options.open(endpoint);
    opened.push(target);
    return target;
  };
  const main = (): ReplicationTarget => {
    assert.ok(primary, 'open() failed before the tests ran');
    return primary;
  };
  /** Uploads small bytes streamed and returns their digest. */
  const put = async (repository: string, bytes: Buffer): Promise<Digest> => {
    const digest = sha256(bytes);
    await main().writeBlob(repository, digest, bytes.length, streamOf(bytes));
    return digest;
  };
  /** Pushes a one-layer image (config, layer, manifest with unusual formatting) under `tag`, or its digest, and returns its manifest. */
  const pushImage = async (repository: string, tag: string | undefined, seed: string, extra: Record<string, unknown> = {}): Promise<RemoteManifest> => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed }));
    const layer = randomBytes(2048);
    const configDigest = await put(repository, config);
    const layerDigest = await put(repository, layer);
    // Three-space indentation, a trailing newline and an annotation with a non-ASCII value: any
    // re-serialization by the adapter or registry would change the digest.
    const payload = Buffer.from(
      `${JSON.stringify(
        {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
          layers: [{ mediaType: OCI_LAYER, digest: layerDigest, size: layer.length }],
          annotations: { 'org.example.seed': `${seed} ✓` },
          ...extra,
        },
        null,
        3,
      )}\n`,
    );
    const manifest = manifestOf(payload, OCI_MANIFEST);
    await main().putManifest(repository, tag ?? manifest.digest, manifest);
    return manifest;
  };

  describe(options.name, () => {
    before(async () => {
      primary = await open(options.endpoint());
    });

    after(async () => {
      for (const target of opened.reverse()) await target.close?.();
    });

    it('pings, repeatedly and from a second target', async () => {
      await main().ping();
      await main().ping();
      await (await open(options.endpoint())).ping();
    });

    it('writes a small blob streamed, then has it and reads it back exactly', async () => {
      const repository = repo('small');
      const bytes = randomBytes(100_003);
      const digest = sha256(bytes);
      assert.equal(await main().hasBlob(repository, digest), false, 'absent before the write');
      await main().writeBlob(repository, digest, bytes.length, streamOf(bytes.subarray(0, 1000), bytes.subarray(1000)));
      assert.equal(await main().hasBlob(repository, digest), true);
      const reader = await main().readBlob(repository, digest);
      assert.equal(reader.size, bytes.length);
      assert.ok((await collect(reader.stream)).equals(bytes), 'the blob reads back unchanged');
      // Writing the same blob again is fine (replication retries do it).
      await main().writeBlob(repository, digest, bytes.length, streamOf(bytes));
    });

    it('writes the empty blob', async () => {
      const repository = repo('empty');
      await main().writeBlob(repository, EMPTY_SHA256, 0, streamOf());
      assert.equal(await main().hasBlob(repository, EMPTY_SHA256), true);
      const reader = await main().readBlob(repository, EMPTY_SHA256);
      assert.equal(reader.size, 0);
      assert.equal((await collect(reader.stream)).length, 0);
    });

    for (const mode of ['streamed', 'chunked'] as const) {
      it(`writes a ${(blobBytes / MiB).toFixed(1)} MiB seeded blob ${mode}, and reads it back with the same digest`, async () => {
        const repository = repo(`seeded-${mode}`);
        const seed = mode === 'streamed' ? 0x5eed1 : 0x5eed2;
        const { digest } = await hashStream(seededStream(seed, blobBytes));
        // A chunk size that does not divide the blob, so the last chunk is short.
        const chunkSize = mode === 'chunked' ? MiB + 4099 : undefined;
        await main().writeBlob(repository, digest as Digest, blobBytes, seededStream(seed, blobBytes, { chunkBytes: 64 * 1024 }), { chunkSize });
        assert.equal(await main().hasBlob(repository, digest as Digest), true);
        const reader = await main().readBlob(repository, digest as Digest);
        assert.equal(reader.size, blobBytes);
        const back = await hashStream(reader.stream);
        assert.deepEqual(back, { digest, size: blobBytes });
      });
    }

    it('refuses a stream that does not hold the announced size or digest, storing nothing', async () => {
      const repository = repo('refused');
      const bytes = randomBytes(10_000);
      const digest = sha256(bytes);
      await assert.rejects(main().writeBlob(repository, digest, bytes.length + 1, streamOf(bytes)), targetError('INVALID', false));
      await assert.rejects(main().writeBlob(repository, digest, bytes.length - 1, streamOf(bytes)), targetError('INVALID', false));
      const wrong = sha256(randomBytes(10_000));
      await assert.rejects(main().writeBlob(repository, wrong, bytes.length, streamOf(bytes)), targetError('INVALID', false));
      await assert.rejects(main().writeBlob(repository, wrong, bytes.length, streamOf(bytes), { chunkSize: 4096 }), targetError('INVALID', false));
      assert.equal(await main().hasBlob(repository, digest), false);
      assert.equal(await main().hasBlob(repository, wrong), false);
    });

    it('fails a streamed write whose source breaks midway or whose signal aborts, storing nothing', async () => {
      const repository = repo('broken');
      const bytes = randomBytes(3 * MiB);
      const digest = sha256(bytes);
      // The source sends a third of the blob, then fails: the write fails with the source's error.
      const broken = new Readable({ read() {} });
      broken.push(bytes.subarray(0, MiB));
      setTimeout(() => broken.destroy(new Error('the source broke')), 50);
      await assert.rejects(main().writeBlob(repository, digest, bytes.length, broken), /the source broke/);
      // The source stalls; stopping the copy ends the write instead of waiting for it.
      const stalled = new Readable({ read() {} });
      stalled.push(bytes.subarray(0, MiB));
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(main().writeBlob(repository, digest, bytes.length, stalled, { signal: controller.signal }));
      assert.equal(await main().hasBlob(repository, digest), false);
      // The connection pool is still usable afterwards.
      await main().writeBlob(repository, digest, bytes.length, streamOf(bytes));
      assert.equal(await main().hasBlob(repository, digest), true);
    });

    it('reports missing blobs: hasBlob false, readBlob NOT_FOUND', async () => {
      const missing = sha256(randomBytes(32));
      assert.equal(await main().hasBlob(repo('small'), missing), false);
      await assert.rejects(main().readBlob(repo('small'), missing), targetError('NOT_FOUND', false));
    });

    it('mounts a blob from another repository, and says false when the registry declines', async () => {
      const from = repo('mount-from');
      const to = repo('mount-to');
      const digest = await put(from, randomBytes(4321));
      assert.equal(await main().hasBlob(to, digest), false);
      assert.equal(await main().mountBlob(to, digest, from), true);
      assert.equal(await main().hasBlob(to, digest), true);
      // A digest the source does not hold cannot be mounted: the registry opens an upload instead.
      const unknown = sha256(randomBytes(64));
      assert.equal(await main().mountBlob(repo('mount-other'), unknown, from), false);
      assert.equal(await main().hasBlob(repo('mount-other'), unknown), false);
    });

    it('puts a manifest by tag and gets and heads it by tag and digest, with its exact bytes', async () => {
      const repository = repo('manifests');
      const manifest = await pushImage(repository, 'v1', 'exact');
      for (const reference of ['v1', manifest.digest]) {
        const got = await main().getManifest(repository, reference);
        assert.ok(got, `getManifest ${reference}`);
        assert.ok(got.payload.equals(manifest.payload), `exact bytes by ${reference}`);
        assert.equal(got.digest, manifest.digest);
        assert.equal(got.mediaType, OCI_MANIFEST);
        assert.equal(got.size, manifest.size);
        assert.deepEqual(await main().headManifest(repository, reference), { digest: manifest.digest, mediaType: OCI_MANIFEST, size: manifest.size });
      }
      assert.equal(await main().getManifest(repository, 'absent'), undefined);
      assert.equal(await main().headManifest(repository, 'absent'), undefined);
      assert.equal(await main().getManifest(repository, sha256(randomBytes(8))), undefined);
      assert.equal(await main().getManifest(repo('never-pushed'), 'v1'), undefined);
    });

    it('puts an untagged manifest by digest and an image index over it', async () => {
      const repository = repo('index');
      const image = await pushImage(repository, 'image', 'index-child');
      const child = await pushImage(repository, undefined, 'untagged');
      assert.ok((await main().getManifest(repository, child.digest))?.payload.equals(child.payload));
      const payload = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [
            { mediaType: OCI_MANIFEST, digest: image.digest, size: image.size, platform: { architecture: 'amd64', os: 'linux' } },
            { mediaType: OCI_MANIFEST, digest: child.digest, size: child.size, platform: { architecture: 'arm64', os: 'linux' } },
          ],
        }),
      );
      const index = manifestOf(payload, OCI_INDEX);
      await main().putManifest(repository, 'multi', index);
      const got = await main().getManifest(repository, 'multi');
      assert.ok(got?.payload.equals(payload));
      assert.equal(got?.mediaType, OCI_INDEX);
      assert.equal(got?.digest, index.digest);
    });

    it('refuses a manifest whose bytes do not match its digest, before sending it', async () => {
      const payload = Buffer.from('{"schemaVersion":2}');
      await assert.rejects(
        main().putManifest(repo('manifests'), 'bad', { ...manifestOf(payload, OCI_MANIFEST), digest: sha256(Buffer.from('other')) }),
        targetError('INVALID', false),
      );
    });

    it('lists tags, and none for a repository that does not exist', async () => {
      const repository = repo('tags');
      const manifest = await pushImage(repository, 'a', 'tags');
      for (const tag of ['b', 'c-1.0', 'latest']) await main().putManifest(repository, tag, manifest);
      assert.deepEqual((await main().listTags(repository)).sort(), ['a', 'b', 'c-1.0', 'latest']);
      assert.deepEqual(await main().listTags(repo('no-such-repository')), []);
    });

    it('lists the repositories it pushed to in the catalog', async () => {
      const seen = new Set<string>();
      for await (const name of main().listRepositories()) {
        assert.ok(!seen.has(name), `${name} listed once`);
        seen.add(name);
      }
      for (const name of [repo('manifests'), repo('tags'), repo('index')]) assert.ok(seen.has(name), `${name} is in the catalog`);
    });

    it('deletes manifests by digest, resolving when they are absent too; tags as the registry allows', async () => {
      const repository = repo('delete');
      const manifest = await pushImage(repository, 'gone', 'delete');
      await main().deleteManifest(repository, manifest.digest);
      assert.equal(await main().headManifest(repository, manifest.digest), undefined);
      assert.equal(await main().headManifest(repository, 'gone'), undefined, 'its tag went with it');
      await main().deleteManifest(repository, manifest.digest);
      await main().deleteManifest(repository, 'never-was');

      const kept = await pushImage(repository, 'untag-me', 'untag');
      if (options.deletesTags) {
        await main().deleteManifest(repository, 'untag-me');
        assert.equal(await main().headManifest(repository, 'untag-me'), undefined);
        assert.equal((await main().headManifest(repository, kept.digest))?.digest, kept.digest, 'the manifest outlives its tag');
      } else {
        await assert.rejects(main().deleteManifest(repository, 'untag-me'), targetError('UNSUPPORTED', false));
        assert.equal((await main().headManifest(repository, 'untag-me'))?.digest, kept.digest);
      }
      await main().deleteManifest(repository, kept.digest);
    });

    it(`lists referrers through ${options.referrers === 'api' ? 'the referrers API' : 'the sha256-<hex> tag fallback'}`, async () => {
      const repository = repo('referrers');
      const subject = await pushImage(repository, 'signed', 'subject');
      assert.deepEqual(await main().listReferrers(repository, subject.digest), [], 'no referrers yet');
      const artifactType = 'application/vnd.example.signature.v1';
      const empty = Buffer.from('{}');
      const emptyDigest = await put(repository, empty);
      const payload = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType,
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 },
          layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 }],
          subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
          annotations: { 'org.example.kind': 'signature' },
        }),
      );
      const referrer = manifestOf(payload, OCI_MANIFEST);
      await main().putManifest(repository, referrer.digest, referrer);
      const listed = await main().listReferrers(repository, subject.digest);
      assert.ok(listed, 'referrers are supported one way or the other');
      assert.equal(listed.length, 1, JSON.stringify(listed));
      assert.equal(listed[0]?.digest, referrer.digest);
      assert.equal(listed[0]?.mediaType, OCI_MANIFEST);
      assert.equal(listed[0]?.size, referrer.size);
      assert.equal(listed[0]?.artifactType, artifactType);
      assert.deepEqual(listed[0]?.annotations, { 'org.example.kind': 'signature' });

      const fallbackTag = subject.digest.replace(':', '-');
      const tags = await main().listTags(repository);
      if (options.referrers === 'tag-schema') {
        assert.ok(tags.includes(fallbackTag), `the ${fallbackTag} tag holds the referrers index`);
        const index = await main().getManifest(repository, fallbackTag);
        assert.equal(index?.mediaType, OCI_INDEX);
        // Pushing the referrer again does not list it twice.
        await main().putManifest(repository, referrer.digest, referrer);
        assert.equal((await main().listReferrers(repository, subject.digest))?.length, 1);
      } else {
        assert.ok(!tags.includes(fallbackTag), 'no fallback tag on a registry with the referrers API');
      }
      assert.deepEqual(await main().listReferrers(repository, sha256(randomBytes(8))), [], 'an unknown subject has none');
    });

    it(
      options.authenticates ? 'refuses wrong credentials with UNAUTHORIZED, not retryable' : 'ignores credentials, as an open registry does',
      async () => {
        const endpoint = options.endpoint();
        const wrong = await open({ ...endpoint, credentials: { username: endpoint.credentials?.username ?? 'conformance', password: `wrong-${randomBytes(6).toString('hex')}` } });
        if (!options.authenticates) {
          await wrong.ping();
          return;
        }
        await assert.rejects(wrong.ping(), targetError('UNAUTHORIZED', false));
        await assert.rejects(wrong.getManifest(repo('manifests'), 'v1'), targetError('UNAUTHORIZED', false));
        await assert.rejects(wrong.writeBlob(repo('manifests'), EMPTY_SHA256, 0, streamOf()), targetError('UNAUTHORIZED', false));
      },
    );

    it('maps a port nobody listens on to UNREACHABLE, retryable, naming the endpoint', async () => {
      const endpoint = { ...options.endpoint(), name: 'conformance-unreachable', url: `http://127.0.0.1:${await closedPort()}` };
      const target = await open(endpoint);
      for (const call of [() => target.ping(), () => target.hasBlob('a/b', EMPTY_SHA256), () => target.writeBlob('a/b', EMPTY_SHA256, 0, Readable.from([]))]) {
        await assert.rejects(call(), (err: unknown) => {
          targetError('UNREACHABLE', true)(err);
          assert.match((err as Error).message, /conformance-unreachable/);
          return true;
        });
      }
    });

    it('never puts the password into an error message', async () => {
      const endpoint = options.endpoint();
      const secret = `secret-${randomBytes(8).toString('hex')}`;
      const target = await open({ ...endpoint, credentials: { username: endpoint.credentials?.username ?? 'conformance', password: secret } });
      const errors: unknown[] = [];
      await target.ping().catch((err: unknown) => errors.push(err));
      await target.getManifest(repo('manifests'), 'v1').catch((err: unknown) => errors.push(err));
      const unreachable = await open({ ...endpoint, url: `http://127.0.0.1:${await closedPort()}`, credentials: { username: 'u', password: secret } });
      await unreachable.ping().catch((err: unknown) => errors.push(err));
      assert.ok(errors.length >= 1);
      for (const err of errors) {
        const text = `${String(err)} ${JSON.stringify(err)} ${String((err as { cause?: unknown }).cause ?? '')}`;
        assert.ok(!text.includes(secret), 'the password is not in the error');
        assert.ok(!text.includes(Buffer.from(`${endpoint.credentials?.username ?? 'u'}:${secret}`).toString('base64')), 'nor its Basic encoding');
      }
    });
  });
}

