#!/usr/bin/env node
// npm run bench:replication (through scripts/bench-replication.sh): replicating one image of
// 256 MiB in 8 layers from Wharf to Debian's docker-registry, against `skopeo copy` between the
// same two registries, in alternating order, each copy into a fresh empty docker-registry.
// Also samples Wharf's RSS while it replicates. Prints a markdown report; exits 1 when a copy
// fails or a digest differs (never because of the ratio).
import { spawn, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile, mkdtemp, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const LAYERS = Number(process.env.LAYERS ?? 8);
const LAYER_MIB = Number(process.env.LAYER_MIB ?? 32);
const WHARF_PORT = Number(process.env.WHARF_PORT ?? 5115);
const REGISTRY_PORT = Number(process.env.REGISTRY_PORT ?? 5116);
const KEEP = process.env.KEEP === '1';
const wharfUrl = `http://127.0.0.1:${WHARF_PORT}`;
const registryUrl = `http://127.0.0.1:${REGISTRY_PORT}`;
const children = new Set();
// Wharf runs on its secure defaults (db users, projects, token auth): the API wants a login.
const ADMIN = { username: 'admin', password: 'Bench-Admin-Passw0rd' };
const basic = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
const creds = `${ADMIN.username}:${ADMIN.password}`;


const tmp = await mkdtemp(path.join(process.env.BENCH_TMPDIR ?? tmpdir(), 'wharf-bench-replication-'));
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

function sha256(buf) {
  return `sha256:${createHash('sha256').update(buf).digest('hex')}`;
}

/** An OCI layout with LAYERS random layers of LAYER_MIB each (incompressible: nothing to gain from compression). */
async function buildLayout(dir) {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes, mediaType) => {
    const digest = sha256(bytes);
    await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const layers = [];
  for (let i = 0; i < LAYERS; i++) layers.push(await put(randomBytes(LAYER_MIB * 1024 * 1024), 'application/vnd.oci.image.layer.v1.tar'));
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })), 'application/vnd.oci.image.config.v1+json');
  const manifest = await put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers })), 'application/vnd.oci.image.manifest.v1+json');
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }));
  return manifest.digest;
}

async function startProcess(label, cmd, args, readyUrl) {
  const log = await open(path.join(tmp, `${label}.log`), 'a');
  const child = spawn(cmd, args, { cwd: tmp, stdio: ['ignore', log.fd, log.fd], env: { ...process.env, WHARF_ADMIN_PASSWORD: ADMIN.password } });
  await log.close();
  children.add(child);
  child.once('exit', () => children.delete(child));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited: ${await readFile(path.join(tmp, `${label}.log`), 'utf8')}`);
    if (await fetch(readyUrl).then(() => true, () => false)) return child;
    if (Date.now() > deadline) throw new Error(`${label} did not start`);
    await sleep(50);
  }
}

async function stopProcess(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** A fresh, empty docker-registry: nothing at the destination is ever already there. */
async function freshRegistry(label) {
  const dir = path.join(tmp, label);
  await mkdir(dir, { recursive: true });
  const config = { version: 0.1, log: { level: 'error', accesslog: { disabled: true } }, storage: { filesystem: { rootdirectory: path.join(dir, 'data') }, delete: { enabled: true } }, http: { addr: `127.0.0.1:${REGISTRY_PORT}`, secret: 'bench' } };
  await writeFile(path.join(dir, 'config.yml'), JSON.stringify(config));
  const child = await startProcess(label, 'docker-registry', ['serve', path.join(dir, 'config.yml')], `${registryUrl}/v2/`);
  return { stop: async () => { await stopProcess(child); await rm(dir, { recursive: true, force: true }); } };
}

async function digestAt(base, repo, tag) {
  const auth = base === wharfUrl ? { authorization: basic } : {};
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json', ...auth } });
  return res.headers.get('docker-content-digest');
}

async function api(method, p, body) {
  const res = await fetch(`${wharfUrl}/api/v1${p}`, { method, headers: { 'content-type': 'application/json', authorization: basic }, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function rssKiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

const policyFile = path.join(tmp, 'policy.json');
await writeFile(policyFile, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
const skopeo = (args) => run('skopeo', ['--policy', policyFile, ...args], { maxBuffer: 1 << 24 });

async function measureSkopeo(round) {
  const registry = await freshRegistry(`registry-skopeo-${round}`);
  try {
    const t0 = performance.now();
    await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', creds, `docker://127.0.0.1:${WHARF_PORT}/bench/img:1`, `docker://127.0.0.1:${REGISTRY_PORT}/bench/img:1`]);
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, digest: await digestAt(registryUrl, 'bench/img', '1') };
  } finally {
    await registry.stop();
  }
}

async function measureReplication(round, wharfPid) {
  const registry = await freshRegistry(`registry-wharf-${round}`);
  try {
    await api('POST', '/registries', { name: `bench-${round}`, type: 'oci', url: registryUrl });
    await api('POST', '/replication/policies', {
      name: `bench-${round}`, mode: 'push', endpoint: `bench-${round}`, trigger: 'manual', flatten: 'none',
      filters: { repositories: [{ kind: 'glob', pattern: 'bench/img', decision: 'include' }], tags: [] },
    });
    const before = await rssKiB(wharfPid);
    let peak = before;
    const t0 = performance.now();
    let execution = await api('POST', '/replication/executions', { policy: `bench-${round}` });
    while (!['succeeded', 'failed', 'stopped'].includes(execution.status)) {
      await sleep(50);
      peak = Math.max(peak, await rssKiB(wharfPid));
      execution = await api('GET', `/replication/executions/${execution.id}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (execution.status !== 'succeeded') throw new Error(`execution ${execution.id} ${execution.status}: ${execution.statusText}`);
    // The destination registry is gone after this round: delete the endpoint's policy history too.
    return { seconds, digest: await digestAt(registryUrl, 'bench/img', '1'), rssBefore: before, rssPeak: peak, bytes: execution.bytes };
  } finally {
    await registry.stop();
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const mib = (kib) => (kib / 1024).toFixed(0);

let exitCode = 0;
let wharf;
try {
  process.stderr.write(`bench-replication: building a ${LAYERS} x ${LAYER_MIB} MiB image in ${tmp}\n`);
  const source = await buildLayout(path.join(tmp, 'layout'));
  await writeFile(path.join(tmp, 'wharf.yaml'), JSON.stringify({ log: { level: 'warn', access: false }, storage: { fs: { fsync: false } } }));
  wharf = await startProcess('wharf', process.execPath, [path.join(root, 'core/bin/wharf.js'), 'serve', '--listen', `127.0.0.1:${WHARF_PORT}`, '--data-dir', path.join(tmp, 'wharf-data'), '--config', path.join(tmp, 'wharf.yaml')], `${wharfUrl}/v2/`);
  await api('POST', '/projects', { name: 'bench' });
  await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${path.join(tmp, 'layout')}:bench`, `docker://127.0.0.1:${WHARF_PORT}/bench/img:1`]);
  if ((await digestAt(wharfUrl, 'bench/img', '1')) !== source) throw new Error('the image in Wharf has another digest');

  const rows = [];
  for (let round = 1; round <= ROUNDS; round++) {
    process.stderr.write(`bench-replication: round ${round}/${ROUNDS}\n`);
    const order = round % 2 ? ['skopeo', 'wharf'] : ['wharf', 'skopeo'];
    const r = {};
    for (const who of order) r[who] = who === 'skopeo' ? await measureSkopeo(round) : await measureReplication(round, wharf.pid);
    for (const who of order) if (r[who].digest !== source) throw new Error(`round ${round}: ${who} copy has digest ${r[who].digest}, expected ${source}`);
    rows.push({ round, order: order.join(' then '), skopeo: r.skopeo.seconds, wharf: r.wharf.seconds, ratio: r.wharf.seconds / r.skopeo.seconds, rssBefore: r.wharf.rssBefore, rssPeak: r.wharf.rssPeak });
  }

  const lines = [
    `Replicating one image (${LAYERS} layers x ${LAYER_MIB} MiB = ${LAYERS * LAYER_MIB} MiB, random bytes) from Wharf to an empty docker-registry (distribution 2.8):`,
    '`skopeo copy docker:// docker://` between the two registries against a manual Wharf push policy (POST to `succeeded`).',
    '',
    '| round | order | skopeo copy (s) | Wharf replication (s) | replication / skopeo | Wharf RSS before → peak (MiB) |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.round} | ${r.order} | ${r.skopeo.toFixed(2)} | ${r.wharf.toFixed(2)} | ${r.ratio.toFixed(2)} | ${mib(r.rssBefore)} → ${mib(r.rssPeak)} |`),
    `| median | | ${median(rows.map((r) => r.skopeo)).toFixed(2)} | ${median(rows.map((r) => r.wharf)).toFixed(2)} | **${median(rows.map((r) => r.ratio)).toFixed(2)}** | peak growth ${mib(Math.max(...rows.map((r) => r.rssPeak - r.rssBefore)))} MiB |`,
    '',
    'Digests at the destination equal the source in every copy.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} catch (err) {
  process.stderr.write(`bench-replication: ${err instanceof Error ? err.stack : String(err)}\n`);
  exitCode = 1;
} finally {
  if (wharf) await stopProcess(wharf);
  for (const c of children) c.kill('SIGKILL');
  if (KEEP) process.stderr.write(`bench-replication: kept ${tmp}\n`);
  else await rm(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
