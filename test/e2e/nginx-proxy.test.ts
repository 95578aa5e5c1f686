import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { registryTest } from '../helpers/e2e.js';
import { freePort } from '../helpers/net.js';
import { run, runOk } from '../helpers/run.js';
import { repoRoot, startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { OciLayout, type BuiltImage } from '../fixtures/oci-layout.js';

/**
 * The reverse-proxy guide (docs/guides/reverse-proxy.md) as written: `scripts/guides/nginx-proxy.sh`
 * puts nginx with the guide's config (`scripts/guides/nginx-wharf.conf`) and TLS in front of
 * `wharf serve`, whose `server.publicUrl` is the proxy's https URL. Through nginx only: the
 * token realm names the proxy, skopeo logs in, pushes an image whose layer is larger than
 * nginx's default 1 MiB body limit, and pulls it back with the same digests.
 */

let server: RegistryHandle | undefined;
let sandbox: ClientSandbox | undefined;
let proxyDir: string;
let work: string;
let port: number;
let image: BuiltImage;
let layout: OciLayout;
const srv = (): RegistryHandle => {
  assert.ok(server, 'Wharf did not start');
  return server;
};
const nginx = (...args: string[]) => run('nginx', ['-p', proxyDir, '-c', join(proxyDir, 'nginx.conf'), ...args]);

before(async () => {
  [work, proxyDir, port] = await Promise.all([makeTempDir('nginx-images'), makeTempDir('nginx'), freePort()]);
  server = await startWharf({ config: { server: { publicUrl: `https://127.0.0.1:${port}`, trustProxy: true } } });
  await runOk('bash', [join(repoRoot, 'scripts/guides/nginx-proxy.sh'), proxyDir, String(port), srv().host]);
  layout = await OciLayout.create(join(work, 'big'));
  // Random bytes do not compress: the gzip layer stays above nginx's default limit of 1 MiB.
  image = await layout.addImage({ files: [{ path: 'blob.bin', content: randomBytes(3 * 1024 * 1024) }] }, 'v1');
  sandbox = await createClientSandbox();
});

after(async () => {
  if (proxyDir) {
    await nginx('-s', 'quit');
    await removeDir(proxyDir);
  }
  await server?.stop();
  await sandbox?.cleanup();
  if (work) await removeDir(work);
});

const proxied = () => `127.0.0.1:${port}`;

/** GET over TLS, trusting the guide's self-signed certificate; resolves status and headers. */
function getTls(path: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: '127.0.0.1', port, path, ca: readFileSync(join(proxyDir, 'tls.crt')) }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

registryTest('the challenge sent through nginx names the public https URL', srv, async () => {
  const res = await getTls('/v2/');
  assert.equal(res.status, 401);
  assert.equal(res.headers['www-authenticate'], `Bearer realm="https://${proxied()}/service/token",service="wharf"`);
});

registryTest('skopeo logs in, pushes a layer above 1 MiB and pulls it back, all through nginx', srv, async () => {
  const s = sandbox!;
  await s.skopeoOk(['login', '--tls-verify=false', '-u', srv().admin!.username, '--password-stdin', proxied()], { input: `${srv().admin!.password}\n` });
  const digestFile = join(work, 'pushed.digest');
  await s.skopeoOk(['copy', '--dest-tls-verify=false', '--digestfile', digestFile, layout.ref('v1'), `docker://${proxied()}/library/big:v1`]);
  assert.equal((await readFile(digestFile, 'utf8')).trim(), image.manifest.digest);
  assert.ok(image.layers[0]!.size > 1024 * 1024, `the layer is only ${image.layers[0]!.size} bytes`);
  const back = join(work, 'back');
  await s.skopeoOk(['copy', '--src-tls-verify=false', `docker://${proxied()}/library/big:v1`, `oci:${back}:v1`]);
  const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]?.digest, image.manifest.digest);
  const pulledLayer = await readFile(join(back, 'blobs', 'sha256', image.layers[0]!.digest.slice('sha256:'.length)));
  assert.equal(pulledLayer.byteLength, image.layers[0]!.size);
  // The manifest went through the proxy (its access log), not around it.
  const access = await readFile(join(proxyDir, 'logs', 'access.log'), 'utf8');
  assert.match(access, /PUT \/v2\/library\/big\/manifests\/v1 HTTP\/1\.1" 201/);
});
