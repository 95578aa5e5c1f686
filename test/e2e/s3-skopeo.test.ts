import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type S3rverHandle } from '@wharf/plugin-storage-s3/test-support';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { registryTest } from '../helpers/e2e.js';
import { hashLayoutBlobs, sha256 } from '../helpers/hash.js';
import { describeHttp, request, uploadUrl } from '../helpers/oci-http.js';
import { startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir, uniqueRepo } from '../helpers/temp.js';
import { OciLayout, type BuiltImage } from '../fixtures/oci-layout.js';

// A real Wharf with `storage: { s3: ... }` on s3rver, driven by skopeo: push, pull back byte for
// byte, GETs answered with 307 to presigned URLs, and an upload continued by a restarted
// process (whose running hash is gone, so the driver must read the upload back from S3).

const MiB = 1024 * 1024;
const BUCKET = 'wharf-e2e';

let s3: S3rverHandle | undefined;
let wharf: RegistryHandle | undefined;
let restarted: RegistryHandle | undefined;
let clients: ClientSandbox | undefined;
let work: string | undefined;
let layout: OciLayout;
let image: BuiltImage;

function s3Config(): Record<string, unknown> {
  assert.ok(s3, 's3rver not started');
  return {
    // An open registry: this file is about storage, not access.
    auth: [],
    rbac: {},
    token: { enabled: false },
    storage: {
      s3: {
        bucket: BUCKET,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        accessKeyId: 'S3RVER',
        secretAccessKey: 'S3RVER',
        prefix: 'registry/',
        partSize: 5 * MiB,
        redirect: { enabled: true },
      },
    },
  };
}

/** The registry being tested: the restarted process once there is one. */
const srv = (): RegistryHandle => {
  const current = restarted ?? wharf;
  assert.ok(current, 'registry not started');
  return current;
};

before(async () => {
  work = await makeTempDir('s3-skopeo');
  s3 = await startS3rver();
  await s3.createBucket(BUCKET);
  clients = await createClientSandbox();
  // The SDK's Node 22 notice would only clutter the server log.
  wharf = await startWharf({ config: s3Config(), env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  // One layer of 12 MiB of noise: three multipart parts of 5 MiB, the last one short.
  layout = await OciLayout.create(join(work, 'src'));
  image = await layout.addImage({ files: [{ path: 'noise.bin', content: randomBytes(12 * MiB) }, { path: 'hello.txt', content: 'hello from s3\n' }], cmd: ['/hello.txt'] }, 'v1');
});

after(async () => {
  await restarted?.stop();
  await wharf?.stop();
  await clients?.cleanup();
  await s3?.stop();
  if (work) await removeDir(work);
});

/** Keys under the registry's prefix in the bucket. */
async function bucketKeys(prefix: string): Promise<string[]> {
  assert.ok(s3);
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  try {
    const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `registry/${prefix}` }));
    return (out.Contents ?? []).map((o) => o.Key ?? '');
  } finally {
    client.destroy();
  }
}

registryTest('skopeo pushes to S3 storage and pulls back byte for byte, through presigned redirects', srv, async () => {
  assert.ok(clients && work);
  const repo = uniqueRepo('s3');
  const dest = `docker://${srv().host}/${repo}:v1`;
  await clients.skopeoOk(['copy', '--dest-tls-verify=false', layout.ref('v1'), dest]);

  // Every blob is a claim in the bucket (the manifest lives in the database).
  const claims = await bucketKeys('blobs/');
  for (const blob of [image.config, ...image.layers]) {
    const hex = blob.digest.slice('sha256:'.length);
    assert.ok(claims.some((key) => key.startsWith(`registry/blobs/sha256/${hex}/${blob.size}.`)), `claim of ${blob.digest} in ${claims.join(', ')}`);
  }
  assert.deepEqual(await bucketKeys('uploads/'), [], 'no upload left in progress');

  // Pulls are redirected to the object store, and the presigned URL serves the blob.
  const layer = image.layers[0];
  assert.ok(layer);
  const direct = await fetch(`${srv().url}/v2/${repo}/blobs/${layer.digest}`, { redirect: 'manual' });
  await direct.arrayBuffer();
  assert.equal(direct.status, 307);
  const location = direct.headers.get('location') ?? '';
  assert.ok(location.startsWith(`${s3?.endpoint ?? '?'}/${BUCKET}/registry/data/`), location);
  const followed = await fetch(location);
  assert.equal(sha256(Buffer.from(await followed.arrayBuffer())), layer.digest);

  // skopeo follows the redirects: every blob comes back identical.
  const back = join(work, 'back');
  await clients.skopeoOk(['copy', '--src-tls-verify=false', dest, `oci:${back}:v1`]);
  const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]?.digest, image.manifest.digest);
  const blobs = await hashLayoutBlobs(back);
  for (const [name, actual] of blobs) assert.equal(actual, name, `blob ${name} is corrupt`);
  assert.ok(blobs.has(layer.digest));
});

registryTest('an upload started before a restart is finished by the new process, which reads it back from S3', srv, async () => {
  const repo = uniqueRepo('s3-restart');
  const bytes = randomBytes(7 * MiB + 333);
  const digest = sha256(bytes);
  const cut = 6 * MiB + 1;
  const start = await request(`${srv().url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  assert.equal(start.status, 202, describeHttp('POST', start));
  const patch = await request(uploadUrl(srv().url, start.headers.get('location')).href, {
    method: 'PATCH',
    headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${cut - 1}` },
    body: bytes.subarray(0, cut),
  });
  assert.equal(patch.status, 202, describeHttp('PATCH', patch));
  const location = patch.headers.get('location');

  // A new process on the same database and bucket: its running hash of the first chunk is gone.
  const { dataDir, port } = srv();
  await srv().kill('SIGTERM');
  restarted = await startWharf({ config: s3Config(), dataDir, port, env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  const put = await request(`${uploadUrl(restarted.url, location).href}${location?.includes('?') ? '&' : '?'}digest=${digest}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${cut}-${bytes.length - 1}` },
    body: bytes.subarray(cut),
  });
  assert.equal(put.status, 201, describeHttp('PUT', put));
  const got = await fetch(`${restarted.url}/v2/${repo}/blobs/${digest}`);
  assert.equal(got.status, 200, 'fetch follows the redirect to the object store');
  assert.equal(sha256(Buffer.from(await got.arrayBuffer())), digest);

  // A wrong digest is refused and leaves nothing behind in the bucket.
  const again = await request(`${restarted.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const wrong = sha256(randomBytes(8));
  const refused = await request(`${uploadUrl(restarted.url, again.headers.get('location')).href}${again.headers.get('location')?.includes('?') ? '&' : '?'}digest=${wrong}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: randomBytes(1000),
  });
  assert.equal(refused.status, 400, describeHttp('PUT with a wrong digest', refused));
  assert.match(refused.text, /DIGEST_INVALID/);
  assert.deepEqual(await bucketKeys('uploads/'), []);
  assert.ok(!(await bucketKeys('blobs/')).some((key) => key.includes(wrong.slice(7))));
});
