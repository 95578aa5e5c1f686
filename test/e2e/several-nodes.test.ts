import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@wharf/sdk-testing';
import { startS3rver, type S3rverHandle } from '@wharf/plugin-storage-s3/test-support';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { registryTest } from '../helpers/e2e.js';
import { runOk } from '../helpers/run.js';
import { basicAuth, startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, OciLayout } from '../fixtures/oci-layout.js';

/**
 * The several-nodes guide (docs/guides/several-nodes.md) with its shared parts: two `wharf
 * serve` processes, each with its own data directory, sharing PostgreSQL, an S3 bucket (s3rver),
 * Redis for jobs, `secretKey` and the token signing key file. An image pushed through one node
 * is pulled through the other, and a token issued by one is accepted by the other.
 */

const BUCKET = 'wharf-nodes';
let s3: S3rverHandle | undefined;
let db: TestDatabase | undefined;
let nodes: RegistryHandle[] = [];
let sandbox: ClientSandbox | undefined;
let work: string;
let layout: OciLayout;
let image: BuiltImage;
const first = (): RegistryHandle => {
  assert.ok(nodes[0], 'the first node did not start');
  return nodes[0];
};

before(async () => {
  work = await makeTempDir('nodes');
  [s3, db] = await Promise.all([startS3rver(), createTestDatabase('postgres')]);
  await s3.createBucket(BUCKET);
  // What every node shares (the guide's table): made once, given to each.
  const signingKeyFile = join(work, 'signing.pem');
  await runOk('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', signingKeyFile]);
  const config = {
    secretKey: randomBytes(32).toString('base64'),
    token: { keys: { signingKeyFile } },
    database: db.config,
    jobs: { backend: 'redis', redis: { url: 'redis://127.0.0.1:6379', prefix: `wharf-e2e-nodes-${randomBytes(4).toString('hex')}` } },
    storage: { s3: { bucket: BUCKET, endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } },
  };
  const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  // One after the other: the first creates the schema and the administrator.
  nodes.push(await startWharf({ config, env }));
  nodes.push(await startWharf({ config, env }));
  ({ layout, image } = await singleImageLayout(join(work, 'src')));
  sandbox = await createClientSandbox();
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await sandbox?.cleanup();
  await s3?.stop();
  await db?.drop();
  if (work) await removeDir(work);
});

registryTest('pushed through one node, pulled through the other; tokens work on both', first, async () => {
  const [a, b] = nodes as [RegistryHandle, RegistryHandle];
  await sandbox!.login(a.host, a.admin!);
  await sandbox!.login(b.host, b.admin!);
  await sandbox!.skopeoOk(['copy', '--dest-tls-verify=false', layout.ref('v1'), `docker://${a.host}/library/app:v1`]);
  const back = join(work, 'back');
  await sandbox!.skopeoOk(['copy', '--src-tls-verify=false', `docker://${b.host}/library/app:v1`, `oci:${back}:v1`]);
  const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]?.digest, image.manifest.digest);
  const tokenRes = await fetch(`${a.url}/service/token?service=wharf&scope=repository:library/app:pull`, { headers: { authorization: basicAuth(a.admin!) } });
  const { token } = (await tokenRes.json()) as { token: string };
  const res = await fetch(`${b.url}/v2/library/app/manifests/v1`, { method: 'HEAD', headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200, 'a token signed by node A is accepted by node B');
});
