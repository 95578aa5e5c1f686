#!/usr/bin/env node
// report-s3.mjs COMPARE_OUT RSS_JSON S3_URL FS_URL: turns compare.sh's raw results (A = Wharf on
// s3rver, B = Wharf on fs) and the RSS measurement of scripts/bench-s3.sh into markdown tables.
import { readFileSync } from 'node:fs';

const [outDir, rssArg = 'null', s3Url = 'A', fsUrl = 'B'] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: report-s3.mjs COMPARE_OUT RSS_JSON S3_URL FS_URL');
  process.exit(2);
}
const TARGET_BYTES = 200e6; // "peak RSS under 200 MB while pushing 2 GiB"

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
  const tp = ok.map((r) => r.throughput);
  const m = median(tp);
  return {
    throughput: m,
    unit: ok[0]?.unit ?? '',
    spread: m ? `${(((Math.max(...tp) - Math.min(...tp)) / m) * 100).toFixed(0)}%` : '-',
    p50: median(ok.map((r) => r.p50Ms)),
    fails: all.length - ok.length,
  };
}

const out = [];
out.push('## Wharf on S3 (s3rver) vs Wharf on fs', '');
out.push(`A = Wharf with \`storage.s3\` on s3rver (${s3Url}), B = Wharf with fs storage (${fsUrl}); medians of ${rounds} round(s).`);
out.push('Throughput in MB/s, higher is better; A / B < 1 means S3 is slower. p50 latency per blob in ms.', '');
out.push('| Scenario | Unit | S3 | fs | S3 / fs | S3 spread | fs spread | S3 p50 | fs p50 | Failed runs (S3/fs) |');
out.push('|---|---|---|---|---|---|---|---|---|---|');
labels.forEach((label, i) => {
  const a = side(i, 'A');
  const b = side(i, 'B');
  const ratio = a.throughput !== undefined && b.throughput ? a.throughput / b.throughput : undefined;
  out.push(`| ${label} | ${a.unit || b.unit} | ${fmt(a.throughput)} | ${fmt(b.throughput)} | ${fmt(ratio, 2)} | ` +
    `${a.spread} | ${b.spread} | ${fmt(a.p50)} | ${fmt(b.p50)} | ${a.fails}/${b.fails} |`);
});
if (labels.length === 0) out.push('| (no results) | | | | | | | | | |');

const rss = JSON.parse(rssArg);
out.push('', '## Wharf-S3 memory while receiving one large blob', '');
if (!rss) {
  out.push('Not measured (RSS=0).');
} else {
  const mib = (kb) => (typeof kb === 'number' && kb > 0 ? `${(kb / 1024).toFixed(0)} MiB` : '-');
  const push = rss.push;
  // The sampled peak, and VmHWM when it was reset before the push (else it covers the boot too).
  const peakKb = Math.max(rss.sampledMaxKb || 0, rss.hwmReset ? rss.hwmKb || 0 : 0);
  const met = rss.rc === 0 && peakKb > 0 && peakKb * 1024 < TARGET_BYTES;
  out.push('| Measure | Value |', '|---|---|');
  out.push(`| Blob | ${rss.size}, monolithic push (POST, PUT ?digest=) to Wharf on s3rver |`);
  out.push(`| Push result | ${rss.rc === 0 && push ? `${fmt(push.throughput)} ${push.unit}, ${fmt(push.seconds, 1)} s` : `failed (rc ${rss.rc})`} |`);
  out.push(`| RSS before the push | ${mib(rss.beforeKb)} |`);
  out.push(`| Peak RSS during the push (sampled every 100 ms) | ${mib(rss.sampledMaxKb)} |`);
  out.push(`| VmHWM after the push | ${mib(rss.hwmKb)}${rss.hwmReset ? ' (reset before the push)' : ' (since process start: reset not permitted)'} |`);
  out.push(`| Target: peak RSS < 200 MB (190.7 MiB) | ${met ? 'met' : '**not met**'} (${mib(peakKb)}) |`);
}
console.log(out.join('\n'));
