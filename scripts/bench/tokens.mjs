#!/usr/bin/env node
// Token endpoint throughput: how many tokens per second Wharf issues for the same valid Basic
// credentials (a CI burst), and how long a wrong password takes (it must never hit the cache).
// usage: node scripts/bench/tokens.mjs --url URL --user U --password P [--duration 10] [--concurrency 16] [--scope S]
// Prints one JSON object.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    scope: { type: 'string', default: 'repository:library/bench:pull,push' },
    wrong: { type: 'string', default: '5' },
  },
});
if (!o.url || !o.user || o.password === undefined) {
  console.error('usage: tokens.mjs --url URL --user U --password P [--duration 10] [--concurrency 16]');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Number(o.concurrency) });
const basic = (password) => 'Basic ' + Buffer.from(`${o.user}:${password}`).toString('base64');

/** One token request; resolves with the status code and the elapsed milliseconds. */
function requestToken(password) {
  const url = new URL('/service/token', o.url);
  url.searchParams.set('service', 'wharf');
  url.searchParams.set('scope', o.scope);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: basic(password) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
    });
    req.on('error', reject);
  });
}

// Warm-up: the first request pays for the password hash and fills the credential cache.
const first = await requestToken(o.password);
if (first.status !== 200) {
  console.error(`tokens: the warm-up request got ${first.status}; are the credentials right?`);
  process.exit(1);
}

const deadline = performance.now() + Number(o.duration) * 1000;
let ok = 0;
let failed = 0;
async function worker() {
  while (performance.now() < deadline) {
    const { status } = await requestToken(o.password);
    if (status === 200) ok++;
    else failed++;
  }
}
const started = performance.now();
await Promise.all(Array.from({ length: Number(o.concurrency) }, worker));
const seconds = (performance.now() - started) / 1000;

// Wrong passwords, one after another: each must be checked for real (slow), never cached.
const wrong = [];
for (let i = 0; i < Number(o.wrong); i++) wrong.push(await requestToken(`${o.password}-wrong`));
agent.destroy();

console.log(
  JSON.stringify({
    tokensPerSecond: Math.round(ok / seconds),
    ok,
    failed,
    seconds: Math.round(seconds * 10) / 10,
    concurrency: Number(o.concurrency),
    firstMs: Math.round(first.ms),
    wrongStatuses: [...new Set(wrong.map((w) => w.status))],
    wrongMedianMs: Math.round(wrong.map((w) => w.ms).sort((a, b) => a - b)[Math.floor(wrong.length / 2)] ?? 0),
  }),
);
