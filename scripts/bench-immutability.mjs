#!/usr/bin/env node
// npm run bench:immutability: what tag immutability costs on the push path (a benchmark, not a test).
//   1. the rule look-up the gates do (TagImmutabilityService.protectingRule), CALLS times, with the
//      project's rules cached (recheckMs 1000: a version read at most once a second) and with the
//      version read on every call (recheckMs 0);
//   2. manifest PUTs of a protected tag with the digest it has (rule matched, tag resolved, allowed)
//      over HTTP, PUSHES times, against a registry without the plugin, with it (recheckMs 1000) and
//      with recheckMs 0.
// env: BENCH_DB=sqlite|postgres|mysql CALLS=20000 PUSHES=400
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(pathToFileURL(path.join(root, p)).href);
const testing = await load('sdk/testing/dist/index.js').catch(() => {
  console.error('bench-immutability: not built: run npm run build');
  process.exit(2);
});
const { tagImmutabilityPlugin, tagImmutabilityServiceRef } = await load('plugins/tag-immutability/dist/index.js');
const { createTestDatabase, startTestRegistry, pushImage, tinyImage } = testing;

const DB = process.env.BENCH_DB ?? 'sqlite';
const CALLS = Number(process.env.CALLS ?? 20_000);
const PUSHES = Number(process.env.PUSHES ?? 400);
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { median: s[Math.floor(s.length / 2)], p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))], mean };
};
const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;
const rule = {
  priority: 0,
  enabled: true,
  repositories: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }],
  tags: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }, { kind: 'regex', decoration: 'excludes', pattern: 'v[0-9]+-dev' }],
};

async function boot(db, plugin, recheckMs) {
  return startTestRegistry({
    plugins: plugin ? [tagImmutabilityPlugin] : [],
    config: { database: db.config, extensions: plugin ? { 'tag-immutability': { recheckMs } } : {}, log: { level: 'warn' } },
  });
}

const db = await createTestDatabase(DB);
const rows = [];
try {
  const image = tinyImage({ text: 'bench\n' });
  for (const [label, plugin, recheckMs] of [['no plugin', false, 0], ['rules cached (recheckMs 1000)', true, 1000], ['version read per push (recheckMs 0)', true, 0]]) {
    const registry = await boot(db, plugin, recheckMs);
    try {
      if (plugin && (await registry.get(tagImmutabilityServiceRef).list('bench')).length === 0) {
        for (let i = 0; i < 4; i++) await registry.get(tagImmutabilityServiceRef).create('bench', { ...rule, tags: [{ ...rule.tags[0], pattern: `v${i}*` }, rule.tags[1]] }, 'bench');
      }
      await pushImage(registry.url, 'bench/app', 'v1', image);
      let lookup = 'n/a';
      if (plugin) {
        const service = registry.get(tagImmutabilityServiceRef);
        const times = [];
        for (let i = 0; i < CALLS; i++) {
          const t = performance.now();
          await service.protectingRule('bench/app', 'v1');
          times.push(performance.now() - t);
        }
        const s = stats(times);
        lookup = `${us(s.median)} median, ${us(s.mean)} mean, ${us(s.p99)} p99`;
      }
      const times = [];
      for (let i = 0; i < PUSHES; i++) {
        const t = performance.now();
        const res = await fetch(`${registry.url}/v2/bench/app/manifests/v1`, { method: 'PUT', headers: { 'content-type': image.manifest.mediaType }, body: image.manifest.bytes });
        await res.arrayBuffer();
        if (res.status !== 201) throw new Error(`push answered ${res.status}`);
        times.push(performance.now() - t);
      }
      const s = stats(times);
      rows.push([label, lookup, `${s.median.toFixed(2)} ms median, ${s.mean.toFixed(2)} ms mean, ${s.p99.toFixed(2)} ms p99`]);
    } finally {
      await registry.close();
    }
  }
} finally {
  await db.drop();
}
console.log(`\n${DB}, ${CALLS} look-ups, ${PUSHES} manifest PUTs of a protected tag (same digest), 4 rules in the project\n`);
console.log('| registry | rule look-up | manifest PUT |\n|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
