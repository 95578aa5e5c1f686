import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { registryTest } from '../helpers/e2e.js';
import { createClientSandbox, type ClientSandbox } from '../helpers/clients.js';
import { createEndpoint, createPolicy, listExecutions } from '../helpers/replication.js';
import { startReference, startWharf, type RegistryHandle, type StartOptions } from '../helpers/server.js';
import { makeTempDir, removeDir, uniqueRepo } from '../helpers/temp.js';
import { prepareE2eProject } from '../helpers/wharf-api.js';
import { singleImageLayout } from '../fixtures/images.js';
import type { BuiltImage, OciLayout } from '../fixtures/oci-layout.js';

// Acknowledged means replicated: skopeo pushes to Wharf with an on-push replication policy to
// docker-registry, Wharf is killed with SIGKILL at a different moment each round (right after
// the push's last 201, while the event is being handled, while the copy runs), restarted on
// the same data, and the image must arrive, every time, with one execution per push.

const ROUNDS = 10;
/** Milliseconds between skopeo returning and the kill, one per round. */
const KILL_DELAYS = [0, 0, 5, 15, 30, 50, 80, 120, 200, 350];
// Short leases, so work of the killed node is taken over within seconds, not the default 30 s.
const CONFIG = { jobs: { leaseSeconds: 2, pollIntervalMs: 100 }, events: { leaseSeconds: 2, pollIntervalMs: 100 } };

let work: string | undefined;
let clients: ClientSandbox | undefined;
let mirror: RegistryHandle | undefined;
let wharf: RegistryHandle | undefined;
let firstWharf: RegistryHandle | undefined;
let image: { layout: OciLayout; image: BuiltImage };

before(async () => {
  work = await makeTempDir('replication-crash');
  image = await singleImageLayout(join(work, 'image'));
  clients = await createClientSandbox();
  mirror = await startReference();
  wharf = firstWharf = await startWharf({ config: CONFIG });
  await prepareE2eProject(wharf);
  await clients.login(wharf.host, wharf.admin!);
});

after(async () => {
  if (wharf !== firstWharf) await wharf?.stop();
  // The first handle owns the data dir, so it goes last.
  await firstWharf?.stop();
  await mirror?.stop();
  await clients?.cleanup();
  if (work) await removeDir(work);
});

async function restart(): Promise<void> {
  const current = wharf!;
  const options: StartOptions = { config: CONFIG, dataDir: current.dataDir, port: current.port };
  if (current !== firstWharf) await current.stop();
  wharf = await startWharf(options);
}

/** The manifest digest docker-registry serves for `repo:tag`, or undefined while it has none. */
async function mirrored(repo: string, tag: string): Promise<string | undefined> {
  const res = await fetch(`${mirror!.url}/v2/${repo}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status === 404) return undefined;
  assert.equal(res.status, 200, `docker-registry answered ${res.status}`);
  return `sha256:${createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex')}`;
}

registryTest(`kill -9 at ${ROUNDS} points after an acknowledged push: every image is replicated, once`, () => wharf, async () => {
  const prefix = uniqueRepo('crash-push');
  await createEndpoint(wharf!, 'crash-mirror', mirror!.url);
  const policy = await createPolicy(wharf!, {
    name: 'crash-mirror', mode: 'push', endpoint: 'crash-mirror', trigger: 'event', flatten: 'none',
    filters: { repositories: [{ kind: 'glob', pattern: `${prefix}-*`, decision: 'include' }], tags: [] },
  });

  for (let round = 0; round < ROUNDS; round++) {
    const repo = `${prefix}-${round}`;
    await clients!.skopeoOk(['copy', '--dest-tls-verify=false', image.layout.ref('v1'), `docker://${wharf!.host}/${repo}:v1`]);
    // skopeo has its 201 for the manifest: the push is acknowledged. Now the node dies.
    if (KILL_DELAYS[round]! > 0) await sleep(KILL_DELAYS[round]!);
    await wharf!.kill('SIGKILL');
    assert.equal(wharf!.process.signalCode, 'SIGKILL');
    await restart();

    const deadline = Date.now() + 60_000;
    let digest: string | undefined;
    while ((digest = await mirrored(repo, 'v1')) === undefined) {
      assert.ok(Date.now() < deadline, `round ${round} (kill after ${KILL_DELAYS[round]} ms): ${repo}:v1 never reached docker-registry`);
      await sleep(100);
    }
    assert.equal(digest, image.image.manifest.digest, `round ${round}: wrong digest replicated`);
  }

  // One execution per push, even for events delivered again after a kill, and all succeeded.
  const deadline = Date.now() + 30_000;
  let executions = await listExecutions(wharf!, policy.id);
  while (executions.some((e) => !['succeeded', 'failed', 'stopped'].includes(e.status)) && Date.now() < deadline) {
    await sleep(200);
    executions = await listExecutions(wharf!, policy.id);
  }
  assert.equal(executions.length, ROUNDS, JSON.stringify(executions.map((e) => [e.id, e.status])));
  assert.ok(executions.every((e) => e.status === 'succeeded'), JSON.stringify(executions.map((e) => [e.id, e.status, e.statusText])));
}, { timeout: 600_000 });
