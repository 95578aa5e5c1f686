#!/usr/bin/env node
// npm run bench:webhooks: does a slow webhook receiver slow pushes down? Two Wharf processes
// (the wharf binary, SQLite, fresh data dirs) side by side:
//   A = project `bench` with 10 webhook policies on PUSH_ARTIFACT, each to its own receiver that
//       answers after 2 s (so every push queues 10 deliveries that take 2 s each)
//   B = the same, without policies
// Pushes of distinct tiny images (two blobs and a manifest, Basic auth) at CONCURRENCY for PUSHES
// pushes per round, alternating ABBA, ROUNDS rounds each. Reports the median pushes/s of each and
// A/B (target >= 0.95), and how many webhooks A's receivers had got by the end.
//
// Also the CPU time each server used per push (from /proc), steadier than pushes/s on a loaded machine.
// env: ROUNDS=6 PUSHES=80 CONCURRENCY=8 DELAY_MS=2000 POLICIES=10; WHARF_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'
// passes node flags to both servers (a profile each, written when the script stops them).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { pushImage, tinyImage } from '@wharf/sdk-testing';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROUNDS = Number(process.env.ROUNDS ?? 6);
const PUSHES = Number(process.env.PUSHES ?? 80);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);
const DELAY_MS = Number(process.env.DELAY_MS ?? 2000);
const POLICIES = Number(process.env.POLICIES ?? 10);
const PASSWORD = 'Bench-Admin-Passw0rd';
const auth = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

async function startWharf(label, tmp) {
  const dataDir = path.join(tmp, label);
  const port = await freePort();
  const config = path.join(tmp, `${label}.yaml`);
  await writeFile(config, JSON.stringify({ log: { level: 'warn' } }));
  const nodeArgs = (process.env.WHARF_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'server/bin/wharf.js'), 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--config', config], {
    env: { ...process.env, WHARF_ADMIN_PASSWORD: PASSWORD },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      // The port answers 503 until boot has finished: wait for ready.
      if ((await fetch(`${url}/readyz`)).status === 200) break;
      throw new Error('booting');
    } catch {
      if (i > 600) throw new Error(`${label} did not start`);
      await sleep(100);
    }
  }
  return { url, child };
}

async function api(url, method, p, body) {
  const res = await fetch(`${url}/api/v1${p}`, { method, headers: { authorization: auth, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res;
}

// The receivers run in a process of their own, so their work does not slow this one's pushes.
const RECEIVERS = `
const http = require('node:http');
let received = 0;
const ports = [];
let open = 0;
for (let i = 0; i < ${POLICIES}; i++) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => { received++; res.end(); }, ${DELAY_MS}));
  });
  server.listen(0, '127.0.0.1', () => {
    ports[i] = server.address().port;
    if (++open === ${POLICIES}) process.send({ ports });
  });
}
if (${POLICIES} === 0) process.send({ ports }); // POLICIES=0: A and B alike, the bench's own noise
process.on('message', () => process.send({ received }));
`;
async function startReceivers() {
  const child = spawn(process.execPath, ['-e', RECEIVERS], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const [{ ports }] = await once(child, 'message');
  return {
    ports,
    received: async () => { child.send('count'); return (await once(child, 'message'))[0].received; },
  };
}

/** User + system CPU time of a process so far, in ms (from /proc: holds on a loaded machine). */
async function cpuMs(pid) {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

let counter = 0;
async function round(url) {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < PUSHES) {
      next++;
      const n = counter++;
      await pushImage(url, `bench/app${n % 16}`, `t${n}`, tinyImage({ text: `bench ${n} ${Math.random()}` }), { authorization: auth });
    }
  }));
  return PUSHES / ((performance.now() - started) / 1000);
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const tmp = await mkdtemp(path.join(process.env.BENCH_TMPDIR ?? os.tmpdir(), 'wharf-bench-webhooks-'));
try {
  const [a, b] = await Promise.all([startWharf('a', tmp), startWharf('b', tmp)]);
  for (const w of [a, b]) await api(w.url, 'POST', '/projects', { name: 'bench' });
  console.log(`A (with policies) is pid ${a.child.pid}, B (none) pid ${b.child.pid}`);
  const receivers = await startReceivers();
  for (const [i, port] of receivers.ports.entries()) {
    await api(a.url, 'POST', '/projects/bench/webhook/policies', { name: `slow-${i}`, event_types: ['PUSH_ARTIFACT'], targets: [{ type: 'http', address: `http://127.0.0.1:${port}/hook` }] });
  }
  // Warm both up (JIT, SQLite pages, the credential cache).
  await round(a.url);
  await round(b.url);
  const results = { a: [], b: [] };
  // CPU per push of each server (its webhook work included, whenever it ran): req/s follow the
  // machine's other load, CPU per push much less.
  const cpu = { a: [], b: [] };
  const pairs = [];
  for (let i = 0; i < ROUNDS; i++) {
    const rates = {};
    for (const which of i % 2 === 0 ? ['a', 'b'] : ['b', 'a']) {
      const server = which === 'a' ? a : b;
      const before = await cpuMs(server.child.pid);
      const rate = await round(server.url);
      cpu[which].push((await cpuMs(server.child.pid) - before) / PUSHES);
      results[which].push(rate);
      rates[which] = rate;
      console.log(`round ${i + 1} ${which === 'a' ? `A (${POLICIES} slow policies)` : 'B (no policy)'}: ${rate.toFixed(1)} pushes/s, ${cpu[which].at(-1).toFixed(2)} CPU ms/push`);
    }
    pairs.push(rates.a / rates.b);
  }
  const ma = median(results.a), mb = median(results.b);
  console.log(`\npushes/s median: A ${ma.toFixed(1)}, B ${mb.toFixed(1)}, A/B ${(ma / mb).toFixed(3)} (target >= 0.95)`);
  // Adjacent A and B runs share the machine's state of the moment, so their ratio drifts less.
  console.log(`A/B per round (A and B run back to back): ${pairs.map((p) => p.toFixed(3)).join(' ')}; median ${median(pairs).toFixed(3)}`);
  console.log(`CPU ms per push (median): A ${median(cpu.a).toFixed(2)}, B ${median(cpu.b).toFixed(2)}, B/A ${(median(cpu.b) / median(cpu.a)).toFixed(3)}`);
  console.log(`webhooks received by A's receivers so far: ${await receivers.received()} of ${(ROUNDS + 1) * PUSHES * POLICIES} queued (each answers after ${DELAY_MS} ms)`);
  console.log(`settings: ROUNDS=${ROUNDS} PUSHES=${PUSHES} CONCURRENCY=${CONCURRENCY} DELAY_MS=${DELAY_MS} POLICIES=${POLICIES}`);
} finally {
  // Each stops gracefully (a --cpu-prof profile is written as it exits), for up to 15 s.
  await Promise.all(children.filter((c) => c.exitCode === null).map((c) => {
    const exited = once(c, 'exit');
    c.kill('SIGTERM');
    return Promise.race([exited, sleep(15_000)]);
  }));
  await rm(tmp, { recursive: true, force: true });
}
