#!/usr/bin/env node
// The Node side of scripts/bench-replication.sh (npm run bench:replication). The shell script
// starts and stops every process and times skopeo; this file does what is easier in Node:
//   layout DIR LAYERS LAYER_MIB          write an OCI image layout (random, incompressible layers),
//                                        tag `bench`; prints the manifest digest
//   digest URL REPO TAG                  prints the manifest digest a registry serves for REPO:TAG
//   setup WHARF_URL NAME REGISTRY_URL    creates endpoint NAME (type oci) and a manual push policy
//                                        NAME for bench/img on Wharf
//   run WHARF_URL NAME LOG_FILE          starts an execution of policy NAME and polls it every 50 ms
//                                        until it ends; prints {"seconds",...} as JSON; writes
//                                        the execution, its tasks and their logs to LOG_FILE;
//                                        exits 1 unless it succeeded
//   report RESULTS_JSONL                 the markdown report from the shell script's results
// The API calls use Basic credentials from BENCH_USER / BENCH_PASSWORD (the management API wants
// an administrator even when /v2/ is open). No dependencies beyond Node 20.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');
const FINAL = new Set(['succeeded', 'failed', 'stopped', 'skipped']);

const fail = (msg) => {
  process.stderr.write(`bench-replication: ${msg}\n`);
  process.exit(1);
};
const sha256 = (buf) => `sha256:${createHash('sha256').update(buf).digest('hex')}`;
const authorization = () =>
  `Basic ${Buffer.from(`${process.env.BENCH_USER ?? 'admin'}:${process.env.BENCH_PASSWORD ?? ''}`).toString('base64')}`;

async function api(base, method, p, body) {
  const res = await fetch(`${base}/api/v1${p}`, {
    method,
    headers: { authorization: authorization(), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body && JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function layout(dir, layers, layerMib) {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes, mediaType) => {
    const digest = sha256(bytes);
    await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const descs = [];
  for (let i = 0; i < layers; i++) descs.push(await put(randomBytes(layerMib * 1024 * 1024), 'application/vnd.oci.image.layer.v1.tar'));
  // Uncompressed layers: diff_ids are the layer digests themselves.
  const config = await put(
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: descs.map((l) => l.digest) } })),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = await put(
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: descs })),
    'application/vnd.oci.image.manifest.v1+json',
  );
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }),
  );
  return manifest.digest;
}

async function digest(base, repo, tag) {
  // GET and hash the body rather than trust a header: the check is that the bytes are the same.
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { headers: { accept: MANIFEST_TYPES } });
  if (!res.ok) throw new Error(`GET ${base}/v2/${repo}/manifests/${tag}: ${res.status}`);
  return sha256(Buffer.from(await res.arrayBuffer()));
}

async function setup(wharf, name, registry) {
  await api(wharf, 'POST', '/registries', { name, type: 'oci', url: registry });
  await api(wharf, 'POST', '/replication/policies', {
    name,
    mode: 'push',
    endpoint: name,
    trigger: 'manual',
    flatten: 'none',
    filters: { repositories: [{ kind: 'glob', pattern: 'bench/img', decision: 'include' }], tags: [] },
  });
}

async function run(wharf, name, logFile) {
  const t0 = performance.now();
  let execution = await api(wharf, 'POST', '/replication/executions', { policy: name });
  while (!FINAL.has(execution.status)) {
    await sleep(50);
    execution = await api(wharf, 'GET', `/replication/executions/${execution.id}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  // Outside the timed span: what the engine did, for reading later (KEEP=1 or BENCH_OUT).
  const details = { execution };
  try {
    const tasks = await api(wharf, 'GET', `/replication/executions/${execution.id}/tasks`);
    details.tasks = tasks;
    const list = Array.isArray(tasks) ? tasks : (tasks?.items ?? tasks?.tasks ?? []);
    details.logs = {};
    for (const task of list) {
      const res = await fetch(`${wharf}/api/v1/replication/executions/${execution.id}/tasks/${task.id}/log`, { headers: { authorization: authorization() } });
      const text = await res.text();
      try {
        details.logs[task.id] = JSON.parse(text);
      } catch {
        details.logs[task.id] = text;
      }
    }
  } catch (err) {
    details.detailsError = String(err);
  }
  await writeFile(logFile, `${JSON.stringify(details, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify({ seconds, id: execution.id, status: execution.status, statusText: execution.statusText, bytes: execution.bytes })}\n`);
  if (execution.status !== 'succeeded') fail(`execution ${execution.id} of ${name} ended ${execution.status}: ${execution.statusText}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mib = (kb) => (kb / 1024).toFixed(0);

async function report(file) {
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const meta = lines.find((l) => l.meta) ?? {};
  const rounds = [...new Set(lines.filter((l) => l.round).map((l) => l.round))].sort((a, b) => a - b);
  const rows = rounds.map((round) => {
    const of = (who) => lines.find((l) => l.round === round && l.who === who);
    const s = of('skopeo');
    const w = of('wharf');
    return { round, first: lines.find((l) => l.round === round).who, s, w, ratio: s?.ok && w?.ok ? w.seconds / s.seconds : undefined };
  });
  const ok = rows.filter((r) => r.ratio !== undefined);
  const fmt = (x, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const out = [];
  out.push(`### Replication: ${meta.layers} layers x ${meta.layerMib} MiB (${meta.layers * meta.layerMib} MiB, random bytes), Wharf → empty docker-registry`);
  out.push('');
  out.push('| round | first | skopeo copy (s) | Wharf replication (s) | replication / skopeo | Wharf RSS before → peak (MiB) |');
  out.push('|---|---|---|---|---|---|');
  for (const r of rows) {
    const rss = r.w?.ok ? `${mib(r.w.rssBeforeKb)} → ${mib(r.w.rssPeakKb)}` : 'n/a';
    out.push(`| ${r.round} | ${r.first === 'wharf' ? 'replication' : 'skopeo'} | ${fmt(r.s?.seconds)} | ${fmt(r.w?.seconds)} | ${fmt(r.ratio)} | ${rss} |`);
  }
  if (ok.length) {
    out.push(
      `| **median** | | ${fmt(median(ok.map((r) => r.s.seconds)))} | ${fmt(median(ok.map((r) => r.w.seconds)))} | **${fmt(median(ok.map((r) => r.ratio)))}** | |`,
    );
    const growth = ok.map((r) => r.w.rssPeakKb - r.w.rssBeforeKb);
    const hwm = ok.map((r) => r.w.hwmKb).filter((x) => x > 0);
    out.push('');
    out.push(
      `Memory: Wharf RSS ${mib(ok[0].w.rssBeforeKb)} MiB before the first replication; during the replications the sampled peak ` +
        `(ps every 100 ms) grew by ${ok.map((r) => mib(r.w.rssPeakKb - r.w.rssBeforeKb)).join(', ')} MiB ` +
        `(max ${mib(Math.max(...growth))} MiB, for a ${meta.layers * meta.layerMib} MiB image)` +
        (hwm.length ? `; kernel high-water mark (VmHWM, reset before each run) ${hwm.map(mib).join(', ')} MiB.` : '.'),
    );
    const cpu = (who, proc) => fmt(median(ok.map((r) => r[who]?.cpu?.[proc] ?? NaN)));
    if (ok.every((r) => r.s.cpu && r.w.cpu)) {
      out.push('');
      out.push(
        `CPU seconds per copy (median): skopeo copy: skopeo ${cpu('s', 'skopeo')} + Wharf ${cpu('s', 'wharf')} + registry ${cpu('s', 'registry')}; ` +
          `replication: Wharf ${cpu('w', 'wharf')} + registry ${cpu('w', 'registry')}; per round, Wharf during replication: ${ok.map((r) => fmt(r.w.cpu.wharf)).join(', ')}.`,
      );
    }
    out.push('');
    out.push(`Median ratio replication / skopeo: **${fmt(median(ok.map((r) => r.ratio)))}** (bar: ≤ 1.1).`);
  }
  const bad = lines.filter((l) => l.round && (!l.ok || l.digest !== meta.digest));
  out.push('');
  out.push(
    bad.length
      ? `FAILED: ${bad.map((l) => `round ${l.round} ${l.who}: ${l.ok ? `digest ${l.digest}` : 'copy failed'}`).join('; ')} (source ${meta.digest})`
      : `Every copy checked: the destination's manifest digest is ${meta.digest}, the same as in Wharf.`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

const [cmd, ...args] = process.argv.slice(2);
try {
  switch (cmd) {
    case 'layout':
      process.stdout.write(`${await layout(args[0], Number(args[1]), Number(args[2]))}\n`);
      break;
    case 'digest':
      process.stdout.write(`${await digest(args[0], args[1], args[2])}\n`);
      break;
    case 'setup':
      await setup(args[0], args[1], args[2]);
      break;
    case 'run':
      await run(args[0], args[1], args[2]);
      break;
    case 'report':
      await report(args[0]);
      break;
    default:
      fail(`unknown command ${cmd ?? '(none)'}: layout, digest, setup, run or report`);
  }
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
