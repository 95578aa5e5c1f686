#!/usr/bin/env node
// report.mjs COMPARE_OUT RSS_JSON WHARF_URL REF_URL: turns compare.sh's raw results
// (results.jsonl, scenarios.txt) and the RSS measurement of scripts/bench.sh into markdown tables.
import { readFileSync } from 'node:fs';

const [outDir, rssArg = 'null', wharfUrl = 'A', refUrl = 'B'] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: report.mjs COMPARE_OUT RSS_JSON WHARF_URL REF_URL');
  process.exit(2);
}

const read = (name) => {
  try {
    return readFileSync(`${outDir}/${name}`, 'utf8').trim();
  } catch {
    return '';
  }
};
const labels = read('scenarios.txt').split('\n').filter(Boolean).map((l) => l.split('|')[0].trim());
const runs = read('results.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l));

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmt = (x, digits = 1) => (x === undefined ? '-' : x.toFixed(digits));
const rounds = new Set(runs.map((r) => r.round)).size;

function side(index, name) {
  const all = runs.filter((r) => r.scenario === index && r.side === name);
  const ok = all.filter((r) => r.rc === 0 && r.result).map((r) => r.result);
  return {
    throughput: median(ok.map((r) => r.throughput)),
    unit: ok[0]?.unit ?? '',
    p50: median(ok.map((r) => r.p50Ms)),
    p99: median(ok.map((r) => r.p99Ms)),
    fails: all.length - ok.length,
  };
}

const out = [];
out.push(`## Wharf vs reference registry`, '');
out.push(`Wharf = ${wharfUrl}, reference (distribution 2.8) = ${refUrl}; medians of ${rounds} round(s).`);
out.push('Throughput: MB/s for push/pull, req/s for manifest; higher is better. Latency in ms; lower is better.', '');
out.push('| Scenario | Unit | Wharf | Reference | Wharf / ref | Wharf p50 | Ref p50 | Wharf p99 | Ref p99 | Failed runs (W/R) |');
out.push('|---|---|---|---|---|---|---|---|---|---|');
labels.forEach((label, i) => {
  const a = side(i, 'A');
  const b = side(i, 'B');
  const ratio = a.throughput !== undefined && b.throughput ? a.throughput / b.throughput : undefined;
  out.push(`| ${label} | ${a.unit || b.unit} | ${fmt(a.throughput)} | ${fmt(b.throughput)} | ${fmt(ratio, 2)} | ` +
    `${fmt(a.p50)} | ${fmt(b.p50)} | ${fmt(a.p99)} | ${fmt(b.p99)} | ${a.fails}/${b.fails} |`);
});
if (labels.length === 0) out.push('| (no results) | | | | | | | | | |');

const rss = JSON.parse(rssArg);
out.push('', '## Wharf memory while receiving one large blob', '');
if (!rss) {
  out.push('Not measured (RSS=0).');
} else {
  const mib = (kb) => (typeof kb === 'number' && kb > 0 ? `${(kb / 1024).toFixed(0)} MiB` : '-');
  const push = rss.push;
  out.push('| Measure | Value |', '|---|---|');
  out.push(`| Blob | ${rss.size}, monolithic push (POST, PUT ?digest=) |`);
  out.push(`| Push result | ${rss.rc === 0 && push ? `${fmt(push.throughput)} ${push.unit}, ${fmt(push.seconds, 1)} s` : `failed (rc ${rss.rc})`} |`);
  out.push(`| RSS before the push | ${mib(rss.beforeKb)} |`);
  out.push(`| Peak RSS during the push (sampled every 100 ms) | ${mib(rss.sampledMaxKb)} |`);
  out.push(`| VmHWM after the push | ${mib(rss.hwmKb)}${rss.hwmReset ? ' (reset before the push)' : ' (since process start: reset not permitted)'} |`);
}
console.log(out.join('\n'));
