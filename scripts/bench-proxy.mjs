#!/usr/bin/env node
// npm run bench:proxy: proxy-cache projects (issue 15) against the issue's bars. Starts an
// upstream docker-registry (distribution 2.8) and Wharf (the wharf binary on its secure defaults:
// SQLite, fs storage, token auth), with a registry endpoint `upstream` and a proxy-cache project
// `cache` on it (path prefix `bench/`), and a normal project `normal`. Images are written straight
// into docker-registry: LAYERS layers of LAYER_MIB MiB each of an AES-128-CTR keystream
// (incompressible, a fresh seed per image, streamed, never held in memory).
//   (a) first pull: skopeo copy docker://registry/bench/img-rN:1 dir:... (direct) against
//       skopeo copy docker://wharf/cache/img-rN:1 dir:... (through the cache, nothing cached:
//       each round pulls a new image). Ratio = direct seconds / cache seconds; bar >= 0.9.
//   (b) cached pull: skopeo copy docker://wharf/cache/img-r1:1 (cached, one HEAD upstream per
//       pull by tag) against skopeo copy docker://wharf/normal/img:1 (the same image pushed
//       into a normal project). Ratio = normal seconds / cached seconds; bar >= 0.95.
//   (c) memory: one image with a single BIG_MIB MiB layer pulled through the cache by a
//       streaming fetch client (sha256 checked, nothing written to disk) while Wharf's RSS is
//       sampled every 100 ms (VmHWM reset before); reports the peak growth over the RSS before.
// Rounds alternate who goes first (ABBA). Every pull's manifest digest is checked against the
// upstream's; a failed pull or a wrong digest makes the exit status 1, the ratios never do.
//
// env: ROUNDS=3 LAYERS=4 LAYER_MIB=64 BIG_MIB=2048 PARTS=a,b,c BENCH_TMPDIR=DIR KEEP=1
//      BENCH_LOG=info (Wharf's log level, with the access log: per-request timings in wharf.log)
//      WHARF_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' (extra node flags for Wharf)
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const LAYERS = Number(process.env.LAYERS ?? 4);
const LAYER_MIB = Number(process.env.LAYER_MIB ?? 64);
const BIG_MIB = Number(process.env.BIG_MIB ?? 2048);
const PARTS = (process.env.PARTS ?? 'a,b,c').split(',');
const KEEP = process.env.KEEP === '1';
const PASSWORD = 'Bench-Admin-Passw0rd-1';
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const MIB = 1024 * 1024;
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';
const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';

const say = (msg) => process.stderr.write(`bench-proxy: ${msg}\n`);
for (const [cmd, pkg] of [['skopeo', 'skopeo'], ['docker-registry', 'docker-registry']]) {
  if (spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error) {
    say(`${cmd} is not installed (apt-get install -y ${pkg})`);
    process.exit(2);
  }
}

const tmp = await mkdtemp(path.join(process.env.BENCH_TMPDIR ?? os.tmpdir(), 'wharf-bench-proxy-'));
const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
say(`data in ${tmp}`);

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

async function waitFor(url, child, label) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${label} exited during startup (see ${tmp}/${label}.log)`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  throw new Error(`${label} did not start`);
}

async function startProcess(label, cmd, args, env = {}) {
  const log = openSync(path.join(tmp, `${label}.log`), 'a');
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
  children.push(child);
  return child;
}

async function startRegistry() {
  const port = await freePort();
  const config = path.join(tmp, 'registry.yml');
  await writeFile(config, JSON.stringify({
    version: '0.1',
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: path.join(tmp, 'registry') }, delete: { enabled: true }, cache: { blobdescriptor: 'inmemory' } },
    http: { addr: `127.0.0.1:${port}`, secret: 'not-a-secret' },
  }));
  const child = await startProcess('registry', 'docker-registry', ['serve', config]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/v2/`, child, 'registry');
  return { url, host: `127.0.0.1:${port}`, child };
}

async function startWharf() {
  const port = await freePort();
  const config = path.join(tmp, 'wharf.yaml');
  await writeFile(config, JSON.stringify({ log: { level: process.env.BENCH_LOG ?? 'warn', access: process.env.BENCH_LOG !== undefined } }));
  const nodeArgs = (process.env.WHARF_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = await startProcess('wharf', process.execPath, [...nodeArgs, path.join(root, 'server/bin/wharf.js'), 'serve',
    '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(tmp, 'wharf'), '--config', config], { WHARF_ADMIN_PASSWORD: PASSWORD });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/readyz`, child, 'wharf');
  for (let i = 0; (await fetch(`${url}/readyz`)).status !== 200; i++) {
    if (i > 600) throw new Error('wharf not ready');
    await sleep(100);
  }
  return { url, host: `127.0.0.1:${port}`, child };
}

async function api(wharf, method, p, body) {
  const res = await fetch(`${wharf.url}/api/v1${p}`, { method, headers: { authorization: AUTH, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} /api/v1${p}: ${res.status} ${await res.text()}`);
  return res;
}

/** `bytes` of an AES-128-CTR keystream under `key`: deterministic per key, incompressible. */
function keystream(key, bytes) {
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MIB);
  let left = bytes;
  return Readable.from((function* () {
    while (left > 0) {
      const n = Math.min(MIB, left);
      left -= n;
      yield cipher.update(n === MIB ? zeros : zeros.subarray(0, n));
    }
  })());
}

async function digestOf(stream) {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk);
  return `sha256:${h.digest('hex')}`;
}

/** Monolithic upload into docker-registry: POST, then PUT ?digest= with the streamed body. */
async function putBlob(registry, repo, digest, size, body) {
  const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  if (start.status !== 202) throw new Error(`POST upload ${repo}: ${start.status}`);
  const url = new URL(start.headers.get('location'), registry.url);
  url.searchParams.set('digest', digest);
  const status = await new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': size } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
    });
    req.once('error', reject);
    pipeline(typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body, req).catch(reject);
  });
  if (status !== 201) throw new Error(`PUT blob ${repo}: ${status}`);
}

/** Writes an image of `layers` layers of `layerBytes` into docker-registry as repo:1; resolves its manifest digest. */
async function seedImage(registry, repo, layers, layerBytes) {
  const descriptors = [];
  for (let i = 0; i < layers; i++) {
    const key = randomBytes(16);
    const digest = await digestOf(keystream(key, layerBytes));
    await putBlob(registry, repo, digest, layerBytes, keystream(key, layerBytes));
    descriptors.push({ mediaType: LAYER_TYPE, digest, size: layerBytes });
  }
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: descriptors.map((d) => d.digest) } });
  const configDigest = await digestOf([Buffer.from(config)]);
  await putBlob(registry, repo, configDigest, Buffer.byteLength(config), config);
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: MANIFEST_TYPE,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: Buffer.byteLength(config) },
    layers: descriptors,
  });
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/1`, { method: 'PUT', headers: { 'content-type': MANIFEST_TYPE }, body: manifest });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`PUT manifest ${repo}:1: ${res.status}`);
  return { digest: await digestOf([Buffer.from(manifest)]), manifest: JSON.parse(manifest) };
}

await writeFile(path.join(tmp, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
const skopeoBase = ['--policy', path.join(tmp, 'policy.json'), '--tmpdir', tmp];
let failures = 0;

/** Runs skopeo; resolves { ok, seconds, output }. */
function skopeo(args) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn('skopeo', [...skopeoBase, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('close', (code) => resolve({ ok: code === 0, seconds: Number(process.hrtime.bigint() - started) / 1e9, output }));
  });
}

const CLK_TCK = 100;
/** User + system CPU seconds a process has used so far (/proc/<pid>/stat). */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}
/** Every timed pull, with the CPU seconds Wharf and docker-registry spent meanwhile (in the JSON). */
const pulls = [];

/** A timed `skopeo copy <src> dir:` into a fresh directory; checks the manifest digest, then removes it. */
async function timedPull(label, src, creds, expected) {
  const dest = path.join(tmp, `pull-${label}`);
  await rm(dest, { recursive: true, force: true });
  const cpu0 = { wharf: cpuSeconds(wharf.child.pid), registry: cpuSeconds(registry.child.pid) };
  const r = await skopeo(['copy', '--retry-times', '0', '--src-tls-verify=false', ...(creds ? ['--src-creds', creds] : []), src, `dir:${dest}`]);
  const cpu = { wharf: cpuSeconds(wharf.child.pid) - cpu0.wharf, registry: cpuSeconds(registry.child.pid) - cpu0.registry };
  let digest = null;
  if (r.ok) digest = await digestOf([await readFile(path.join(dest, 'manifest.json'))]);
  await rm(dest, { recursive: true, force: true });
  if (!r.ok || digest !== expected) {
    failures++;
    say(`${label}: ${src} ${r.ok ? `gave manifest ${digest}, expected ${expected}` : `failed:\n${r.output.slice(-2000)}`}`);
  }
  say(`${label}: ${r.seconds.toFixed(3)} s (CPU s: Wharf ${cpu.wharf.toFixed(2)}, registry ${cpu.registry.toFixed(2)})`);
  pulls.push({ label, seconds: r.seconds, cpu });
  return r.seconds;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 2) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

const registry = await startRegistry();
const wharf = await startWharf();
const creds = `admin:${PASSWORD}`;
say(`docker-registry on ${registry.url}, wharf (pid ${wharf.child.pid}) on ${wharf.url}`);
await api(wharf, 'POST', '/registries', { name: 'upstream', type: 'oci', url: registry.url });
await api(wharf, 'POST', '/projects', { name: 'cache', public: false });
await api(wharf, 'PUT', '/projects/cache/proxy-cache', { upstreams: [{ registry: 'upstream', pathPrefix: 'bench/' }] });
await api(wharf, 'POST', '/projects', { name: 'normal', public: false });

const report = { config: { rounds: ROUNDS, layers: LAYERS, layerMib: LAYER_MIB, bigMib: BIG_MIB } };
const lines = [];
const imageMib = LAYERS * LAYER_MIB;
const images = [];
if (PARTS.includes('a') || PARTS.includes('b')) {
  for (let r = 1; r <= (PARTS.includes('a') ? ROUNDS : 1); r++) {
    say(`writing bench/img-r${r}:1 (${LAYERS} x ${LAYER_MIB} MiB) into docker-registry`);
    images.push(await seedImage(registry, `bench/img-r${r}`, LAYERS, LAYER_MIB * MIB));
  }
}

if (PARTS.includes('a')) {
  const rows = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const { digest } = images[r - 1];
    const direct = () => timedPull(`a-r${r}-direct`, `docker://${registry.host}/bench/img-r${r}:1`, null, digest);
    const cache = () => timedPull(`a-r${r}-cache`, `docker://${wharf.host}/cache/img-r${r}:1`, creds, digest);
    let d, c;
    if (r % 2 === 1) { d = await direct(); c = await cache(); } else { c = await cache(); d = await direct(); }
    rows.push({ round: r, first: r % 2 === 1 ? 'direct' : 'cache', direct: d, cache: c, ratio: d / c });
  }
  const ratio = median(rows.map((x) => x.ratio));
  report.firstPull = { rows, medianRatio: ratio, bar: 0.9, holds: ratio >= 0.9 };
  lines.push(`### (a) first pull through the cache vs docker-registry directly (${imageMib} MiB, ${LAYERS} layers, skopeo copy to dir:)`, '',
    '| round | first | direct (s) | through the cache (s) | direct / cache |', '|---|---|---|---|---|',
    ...rows.map((x) => `| ${x.round} | ${x.first} | ${fmt(x.direct)} | ${fmt(x.cache)} | ${fmt(x.ratio)} |`),
    `| **median** | | ${fmt(median(rows.map((x) => x.direct)))} | ${fmt(median(rows.map((x) => x.cache)))} | **${fmt(ratio)}** (bar >= 0.9: ${ratio >= 0.9 ? 'holds' : 'MISSED'}) |`, '');
}

if (PARTS.includes('b')) {
  const { digest } = images[0];
  // The normal copy: the same image pushed into a normal project (untimed). Part (a) cached
  // img-r1 already; without it, one untimed pull through the cache fills it.
  const push = await skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', creds,
    `docker://${registry.host}/bench/img-r1:1`, `docker://${wharf.host}/normal/img:1`]);
  if (!push.ok) throw new Error(`pushing into normal/img failed:\n${push.output}`);
  if (!PARTS.includes('a')) await timedPull('b-warm', `docker://${wharf.host}/cache/img-r1:1`, creds, digest);
  const rows = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const normal = () => timedPull(`b-r${r}-normal`, `docker://${wharf.host}/normal/img:1`, creds, digest);
    const cached = () => timedPull(`b-r${r}-cached`, `docker://${wharf.host}/cache/img-r1:1`, creds, digest);
    let n, c;
    if (r % 2 === 1) { n = await normal(); c = await cached(); } else { c = await cached(); n = await normal(); }
    rows.push({ round: r, first: r % 2 === 1 ? 'normal' : 'cached', normal: n, cached: c, ratio: n / c });
  }
  const ratio = median(rows.map((x) => x.ratio));
  report.cachedPull = { rows, medianRatio: ratio, bar: 0.95, holds: ratio >= 0.95 };
  lines.push(`### (b) cached pull vs a normal pull from Wharf (the same ${imageMib} MiB image)`, '',
    '| round | first | normal project (s) | proxy-cache project, cached (s) | normal / cached |', '|---|---|---|---|---|',
    ...rows.map((x) => `| ${x.round} | ${x.first} | ${fmt(x.normal)} | ${fmt(x.cached)} | ${fmt(x.ratio)} |`),
    `| **median** | | ${fmt(median(rows.map((x) => x.normal)))} | ${fmt(median(rows.map((x) => x.cached)))} | **${fmt(ratio)}** (bar >= 0.95: ${ratio >= 0.95 ? 'holds' : 'MISSED'}) |`, '');
}

/** A /proc/<pid>/status field in KiB (VmRSS, VmHWM); NaN when unreadable. */
const statusKib = (pid, field) => {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
};
const rssKib = (pid) => statusKib(pid, 'VmRSS');

if (PARTS.includes('c')) {
  say(`writing bench/big:1 (one ${BIG_MIB} MiB layer) into docker-registry`);
  const big = await seedImage(registry, 'bench/big', 1, BIG_MIB * MIB);
  const pid = wharf.child.pid;
  await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined);
  const before = rssKib(pid);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const now = rssKib(pid);
      if (now > peak) peak = now;
      await sleep(100);
    }
  })();
  const started = process.hrtime.bigint();
  const cpu0 = cpuSeconds(pid);
  const headers = { authorization: AUTH, accept: MANIFEST_TYPE };
  const m = await fetch(`${wharf.url}/v2/cache/big/manifests/1`, { headers });
  const text = await m.text();
  const manifestDigest = await digestOf([Buffer.from(text)]);
  let ok = m.status === 200 && manifestDigest === big.digest;
  for (const blob of ok ? [JSON.parse(text).config, ...JSON.parse(text).layers] : []) {
    const res = await fetch(`${wharf.url}/v2/cache/big/blobs/${blob.digest}`, { headers: { authorization: AUTH } });
    const got = res.status === 200 ? await digestOf(Readable.fromWeb(res.body)) : `HTTP ${res.status}`;
    if (got !== blob.digest) { ok = false; say(`c: blob ${blob.digest}: got ${got}`); }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const wharfCpu = cpuSeconds(pid) - cpu0;
  sampling = false;
  await sampler;
  const hwm = statusKib(pid, 'VmHWM');
  if (!ok) { failures++; say(`c: the pull through the cache failed or gave other bytes (manifest ${m.status} ${manifestDigest})`); }
  const growthMib = (peak - before) / 1024;
  report.memory = { layerMib: BIG_MIB, seconds, wharfCpu, mbPerSec: (BIG_MIB * MIB) / seconds / 1e6, rssBeforeKib: before, rssPeakKib: peak, vmHwmKib: hwm, growthMib };
  say(`c: ${BIG_MIB} MiB in ${seconds.toFixed(1)} s (Wharf CPU ${wharfCpu.toFixed(1)} s); Wharf RSS ${before} -> ${peak} KiB (VmHWM ${hwm} KiB)`);
  lines.push(`### (c) Wharf's memory while one ${BIG_MIB} MiB layer is pulled through the cache (first pull, fetch client, sha256 checked)`, '',
    '| seconds | MB/s | RSS before (MiB) | RSS peak (MiB) | VmHWM (MiB) | peak growth (MiB) |', '|---|---|---|---|---|---|',
    `| ${fmt(seconds, 1)} | ${fmt(report.memory.mbPerSec, 0)} | ${fmt(before / 1024, 0)} | ${fmt(peak / 1024, 0)} | ${fmt(hwm / 1024, 0)} | **${fmt(growthMib, 0)}** |`, '');
}

console.log(lines.join('\n'));
console.log(JSON.stringify({ ...report, pulls }));
for (const c of children) c.kill('SIGTERM');
await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
if (KEEP) say(`temp dir kept: ${tmp}`);
else await rm(tmp, { recursive: true, force: true });
if (failures > 0) say(`${failures} pull(s) failed or gave other digests`);
process.exit(failures > 0 ? 1 : 0);
