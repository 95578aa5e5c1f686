#!/usr/bin/env node
// npm run bench:proxy-floor: what a first pull through *any* JavaScript caching proxy costs on
// this machine, for reading bench:proxy's bar (a). Starts bare proxies (node:http, no Wharf) in
// front of a running upstream registry and times `skopeo copy docker://… dir:` through each,
// against the upstream directly:
//   pipe          the upstream's answer piped to the client
//   hash          + every blob body hashed (sha256), as any cache must to verify it
//   hash+file     + the body written to one file (1 MiB batches, positional writes behind the
//                 stream, fdatasync before the last byte), as storing it needs
//   hash+2 files  + a second file, as Wharf's storage write plus its spool file
//   distribution  the reference registry's own pull-through cache (docker-registry with
//                 `proxy.remoteurl`), started on an empty directory for each pull
// Each variant runs PULLS times; prints the median and its ratio direct / variant.
//
// The upstream must already hold the image, e.g. the docker-registry of a kept bench:proxy run:
//   KEEP=1 PARTS=a ROUNDS=1 npm run bench:proxy      (prints the kept directory)
//   docker-registry serve DIR/registry.yml &          (its address is in registry.yml)
//   UPSTREAM=127.0.0.1:PORT IMAGE=bench/img-r1:1 npm run bench:proxy-floor
// env: UPSTREAM (host:port, plain HTTP) IMAGE (repository:tag) PULLS=5
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const UPSTREAM = process.env.UPSTREAM;
const IMAGE = process.env.IMAGE ?? 'bench/img-r1:1';
const PULLS = Number(process.env.PULLS ?? 5);
const MIB = 1024 * 1024;
if (!UPSTREAM) {
  process.stderr.write('bench-proxy-floor: set UPSTREAM=host:port of a registry holding IMAGE (see the header)\n');
  process.exit(2);
}
const tmp = await mkdtemp(path.join(os.tmpdir(), 'wharf-proxy-floor-'));
const say = (msg) => process.stderr.write(`bench-proxy-floor: ${msg}\n`);

/** A bare proxy: blob GETs hashed and written to `files` files when `hash` is set; the rest piped. */
function bareProxy({ hash, files }) {
  const [host, port] = UPSTREAM.split(':');
  const agent = new http.Agent({ keepAlive: true });
  let serial = 0;
  return http.createServer((req, res) => {
    const upstream = http.request({ host, port, path: req.url, method: req.method, headers: { ...req.headers, host: UPSTREAM }, agent }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      const blob = hash && req.method === 'GET' && req.url.includes('/blobs/') && answer.statusCode === 200;
      if (!blob) return void answer.pipe(res);
      void cache(answer, res, files, serial++).catch((err) => res.destroy(err));
    });
    req.pipe(upstream);
  });

  async function cache(answer, res, files, n) {
    const digest = createHash('sha256');
    const handles = await Promise.all(Array.from({ length: files }, (_, i) => open(path.join(tmp, `blob-${n}-${i}`), 'w')));
    let position = 0;
    let behind = 0;
    let writes = Promise.resolve();
    let batch = [];
    let batched = 0;
    const pass = async () => {
      const buffer = Buffer.concat(batch, batched);
      batch = [];
      batched = 0;
      digest.update(buffer);
      const at = position;
      position += buffer.length;
      behind += buffer.length;
      writes = writes.then(() => Promise.all(handles.map((h) => h.write(buffer, 0, buffer.length, at)))).then(() => { behind -= buffer.length; });
      if (!res.write(buffer)) await once(res, 'drain');
      if (behind > 8 * MIB) await writes;
    };
    for await (const chunk of answer) {
      batch.push(chunk);
      batched += chunk.length;
      if (batched >= MIB) await pass();
    }
    if (batched > 0) await pass();
    await writes;
    digest.digest('hex');
    await Promise.all(handles.map(async (h) => { await h.datasync(); await h.close(); }));
    res.end();
  }
}

function pull(host) {
  const dest = path.join(tmp, 'pull');
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('skopeo', ['copy', '--retry-times', '0', '--src-tls-verify=false', `docker://${host}/${IMAGE}`, `dir:${dest}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', async (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await rm(dest, { recursive: true, force: true });
      const names = await readdir(tmp);
      await Promise.all(names.filter((n) => n.startsWith('blob-')).map((n) => rm(path.join(tmp, n))));
      if (code === 0) resolve(seconds);
      else reject(new Error(`skopeo failed: ${err.slice(-500)}`));
    });
  });
}

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** One first pull through docker-registry in proxy mode, on a fresh directory (nothing cached). */
async function distributionPull() {
  const port = await freePort();
  const dir = path.join(tmp, 'distribution');
  await rm(dir, { recursive: true, force: true });
  const config = path.join(tmp, 'distribution.yml');
  await writeFile(config, JSON.stringify({
    version: '0.1',
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: dir }, cache: { blobdescriptor: 'inmemory' } },
    http: { addr: `127.0.0.1:${port}`, secret: 'not-a-secret' },
    proxy: { remoteurl: `http://${UPSTREAM}` },
  }));
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  try {
    for (let i = 0; ; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false);
      if (up) break;
      if (i > 100) throw new Error('docker-registry (proxy mode) did not start');
      await sleep(50);
    }
    return await pull(`127.0.0.1:${port}`);
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit').catch(() => undefined);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function series(label, host) {
  const times = [];
  for (let i = 0; i < PULLS; i++) times.push(await pull(host));
  say(`${label}: ${times.map((t) => t.toFixed(2)).join(' ')}`);
  return median(times);
}

const variants = [
  { label: 'pipe', hash: false, files: 0 },
  { label: 'hash', hash: true, files: 0 },
  { label: 'hash+file', hash: true, files: 1 },
  { label: 'hash+2 files', hash: true, files: 2 },
];
const direct = await series('direct', UPSTREAM);
const rows = [];
for (const variant of variants) {
  const server = bareProxy(variant).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const seconds = await series(variant.label, `127.0.0.1:${server.address().port}`);
  server.close();
  server.closeAllConnections();
  rows.push({ ...variant, seconds });
}
{
  const times = [];
  for (let i = 0; i < PULLS; i++) times.push(await distributionPull());
  say(`distribution: ${times.map((t) => t.toFixed(2)).join(' ')}`);
  rows.push({ label: 'docker-registry as a pull-through cache', seconds: median(times) });
}
const directAgain = await series('direct (again)', UPSTREAM);
const base = (direct + directAgain) / 2;
console.log(`| variant | median pull (s) | direct / variant |\n|---|---|---|\n| direct | ${base.toFixed(2)} | 1.00 |`);
for (const row of rows) console.log(`| ${row.label} | ${row.seconds.toFixed(2)} | ${(base / row.seconds).toFixed(2)} |`);
await rm(tmp, { recursive: true, force: true });
