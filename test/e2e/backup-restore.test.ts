import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { registryTest } from '../helpers/e2e.js';
import { describeRun, run, runOk } from '../helpers/run.js';
import { basicAuth, repoRoot, startWharf, type RegistryHandle } from '../helpers/server.js';
import { makeTempDir, removeDir } from '../helpers/temp.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, OciLayout } from '../fixtures/oci-layout.js';

/**
 * The backup guide (docs/guides/backup-restore.md) as written: `scripts/guides/backup-sqlite-fs.sh`
 * backs up a running registry (SQLite + fs) that holds an image, `restore-sqlite-fs.sh` restores
 * it into a new data directory, and a second `wharf serve` on that directory serves the image
 * (same digest) to the same administrator and accepts tokens signed by the first (the keys were
 * part of the backup).
 */

let first: RegistryHandle | undefined;
let restored: RegistryHandle | undefined;
let sandbox: ClientSandbox | undefined;
let work: string;
let layout: OciLayout;
let image: BuiltImage;
const srv = (): RegistryHandle => {
  assert.ok(first, 'Wharf did not start');
  return first;
};
const script = (name: string) => join(repoRoot, 'scripts/guides', name);

before(async () => {
  work = await makeTempDir('backup');
  first = await startWharf();
  ({ layout, image } = await singleImageLayout(join(work, 'src')));
  sandbox = await createClientSandbox();
  await sandbox.login(srv().host, srv().admin!);
  await sandbox.skopeoOk(['copy', '--dest-tls-verify=false', layout.ref('v1'), `docker://${srv().host}/library/app:v1`]);
});

after(async () => {
  await restored?.stop();
  await first?.stop();
  await sandbox?.cleanup();
  if (work) await removeDir(work);
});

registryTest('backup of the running registry, restore into a new data dir, pull from it', srv, async () => {
  const backup = join(work, 'backup');
  const data = join(work, 'restored');
  const made = await runOk('bash', [script('backup-sqlite-fs.sh'), srv().dataDir, backup]);
  assert.match(made.stdout, /^backed up /m);
  assert.equal((await stat(backup)).mode & 0o777, 0o700, 'the backup holds keys: owner only');
  await runOk('bash', [script('restore-sqlite-fs.sh'), backup, data]);
  const again = await run('bash', [script('restore-sqlite-fs.sh'), backup, data]);
  assert.notEqual(again.code, 0, `restoring over a used data dir must fail\n${describeRun(again)}`);

  restored = await startWharf({ dataDir: data });
  const back = join(work, 'pulled');
  await sandbox!.login(restored.host, restored.admin!);
  await sandbox!.skopeoOk(['copy', '--src-tls-verify=false', `docker://${restored.host}/library/app:v1`, `oci:${back}:v1`]);
  const index = JSON.parse(await readFile(join(back, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  assert.equal(index.manifests[0]?.digest, image.manifest.digest);

  // A token from the first registry works on the restored one: the signing key came along.
  const tokenRes = await fetch(`${srv().url}/service/token?service=wharf&scope=repository:library/app:pull`, { headers: { authorization: basicAuth(srv().admin!) } });
  const { token } = (await tokenRes.json()) as { token: string };
  const res = await fetch(`${restored.url}/v2/library/app/manifests/v1`, { method: 'HEAD', headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-content-digest'), image.manifest.digest);
});
