#!/usr/bin/env node
// Runs every compiled test file (tsc -b must have run first; `npm test` does that).
// Unit and API tests: sdk/, core/, plugins/, server/, examples/ and test/dist/ (except e2e), two
// files at a time, four in the quick tier (`--concurrency=N` changes that). End-to-end tests: test/dist/e2e/**, one file at
// a time (they start servers and clients). Each file runs in its own process, its output printed
// when it ends; at the end a table names the slowest files with their wall and CPU time
// (`--durations` lists every file).
// `npm test -- <substring>` keeps only the files whose path contains <substring>;
// `npm test -- --list [<substring>]` prints the selected files and runs nothing.
// `--quick` (`npm run test:quick`) is the development tier: SQLite only, 32 MiB "large" blobs in
// the storage conformance suites, and without the files in QUICK_LEAVES_OUT below, which it names
// when it starts. `npm test` (what CI runs) keeps every file and every database.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2).filter((a) => a !== '--');
const listOnly = args.includes('--list');
const quick = args.includes('--quick');
const showAllDurations = args.includes('--durations');
const concurrencyArg = args.find((a) => a.startsWith('--concurrency='));
const filters = args.filter((a) => !a.startsWith('--'));

/**
 * What the quick tier leaves to `npm test`, and why: tests that drive outside programs or whose
 * size is their point. Each entry names the compiled files it covers (a path, a list of paths, or
 * a prefix ending in `*`), so none goes unnoticed.
 */
const QUICK_LEAVES_OUT = [
  { files: 'test/dist/e2e/*', why: 'end-to-end tests with real clients (skopeo, podman, buildah, docker login) and peers' },
  { files: 'plugins/replication-oci/dist/memory.test.js', why: 'moves 256 MiB blobs to bound memory use' },
  { files: 'server/dist/*', why: 'the wharf binary\'s tests: each command runs it as a child process' },
  {
    files: ['plugins/auth-db/dist/cli.test.js', 'plugins/rbac-projects/dist/cli.test.js', 'plugins/extension-repositories/dist/cli.test.js', 'plugins/tag-immutability/dist/cli.test.js', 'plugins/gc/dist/cli.test.js', 'plugins/quotas/dist/cli.test.js', 'plugins/tag-retention/dist/cli.test.js'],
    why: 'the plugins\' wharf commands (user, project, robot, repo, immutability, gc, quota, retention), each a child process',
  },
  { files: 'test/dist/api/ui-binary.test.js', why: 'starts the wharf binary twice and reruns openapi-typescript (npm run ui:openapi)' },
  { files: 'test/dist/api/token-clients.test.js', why: 'docker, podman and skopeo logins against the wharf binary' },
  { files: 'sdk/testing/dist/storage-conformance.test.js', why: 'the storage kit against broken drivers: a whole suite in a child process per fault' },
  { files: 'sdk/testing/dist/auth-conformance.test.js', why: 'the auth kit against broken providers: a whole suite in a child process per fault' },
  {
    files: ['plugins/storage-s3/dist/index.test.js', 'plugins/storage-s3/dist/s3-driver.test.js', 'plugins/storage-s3/dist/s3-errors.test.js', 'plugins/storage-s3/dist/s3-layout.test.js'],
    why: 'the S3 driver against an s3rver child process (the storage conformance suite still runs on fs)',
  },
  { files: ['core/dist/jobs/process-embedded.test.js', 'core/dist/jobs/process-redis.test.js'], why: 'jobs nodes as child processes, killed with SIGKILL mid-job' },
  { files: 'sdk/create-plugin/dist/*', why: 'wharf plugin new: scaffolds, builds with tsc and runs npm' },
  { files: 'test/dist/docs/api-report.test.js', why: 'reruns api-extractor (npm run api-report)' },
  { files: 'test/dist/docs/generated-docs.test.js', why: 'reruns the reference generator (npm run docs)' },
].map((r) => {
  const patterns = [r.files].flat();
  const matches = (p, f) => (p.endsWith('*') ? f.startsWith(p.slice(0, -1)) : f === p);
  return { ...r, files: patterns.join(', '), covers: (f) => patterns.some((p) => matches(p, f)) };
});
const QUICK_ENV = { WHARF_TEST_DATABASES: 'sqlite', WHARF_CONFORMANCE_LARGE_BYTES: '32MiB' };

/** Every *.test.js below `dir`; only inside a dist/ folder unless `inDist` is already true. */
async function collect(dir, inDist, out) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) await collect(full, inDist || e.name === 'dist', out);
    else if (inDist && e.isFile() && e.name.endsWith('.test.js')) out.push(relative(root, full));
  }
  return out;
}

const files = [];
for (const top of ['sdk', 'core', 'plugins', 'server', 'examples']) await collect(join(root, top), false, files);
await collect(join(root, 'test', 'dist'), true, files);
const matching = [...new Set(files)]
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
const leftOut = quick ? matching.filter((f) => QUICK_LEAVES_OUT.some((r) => r.covers(f.split(sep).join('/')))) : [];
const selected = matching.filter((f) => !leftOut.includes(f));
if (quick) {
  Object.assign(process.env, QUICK_ENV);
  console.log(`quick tier: ${Object.entries(QUICK_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const r of QUICK_LEAVES_OUT) {
    const n = leftOut.filter((f) => r.covers(f.split(sep).join('/'))).length;
    if (n > 0) console.log(`quick tier leaves out ${r.files} (${n} file${n === 1 ? '' : 's'}): ${r.why}`);
  }
}

// The quick tier runs four files at once: they mostly wait (on sockets, databases, timers), and
// test/dist/api took 112 s instead of 157 s at four than at two, for the same CPU time.
const unitConcurrency = concurrencyArg ? Number(concurrencyArg.split('=')[1]) : quick ? 4 : 2;
if (!(unitConcurrency >= 1)) throw new Error(`--concurrency needs a whole number of at least 1, not ${concurrencyArg}`);
const e2ePrefix = ['test', 'dist', 'e2e', ''].join(sep);
const phases = [
  { name: 'unit and API tests', concurrency: unitConcurrency, files: selected.filter((f) => !f.startsWith(e2ePrefix)) },
  { name: 'end-to-end tests', concurrency: 1, files: selected.filter((f) => f.startsWith(e2ePrefix)) },
];

if (selected.length === 0) {
  console.error(filters.length ? `no compiled test file matches ${filters.join(', ')}` : 'no compiled test files found (run tsc -b first)');
  process.exit(1);
}

if (listOnly) {
  for (const phase of phases) for (const f of phase.files) console.log(`${phase.name}: ${f}`);
  process.exit(0);
}

const COUNTS = /^[ℹ#] (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)/;
const usageDir = await mkdtemp(join(tmpdir(), 'wharf-test-usage-'));
const usageHook = pathToFileURL(join(root, 'scripts', 'test-usage.mjs')).href;

/**
 * Runs one test file in its own process (as `node --test` would) and keeps its output until it
 * ends, so files running side by side do not interleave. Measures its wall and CPU time.
 */
function runFile(file, index) {
  return new Promise((resolve) => {
    const usageFile = join(usageDir, `${index}.json`);
    const args = ['--import', usageHook, '--test-reporter=spec', file];
    const env = { ...process.env, WHARF_TEST_USAGE_FILE: usageFile };
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    child.on('close', async (code, signal) => {
      const wall = (performance.now() - started) / 1000;
      const usage = await readFile(usageFile, 'utf8').then(JSON.parse, () => ({ cpu: NaN }));
      const counts = {};
      for (const line of output.split('\n')) {
        const m = COUNTS.exec(line);
        if (m) counts[m[1]] = (counts[m[1]] ?? 0) + Number(m[2]);
      }
      resolve({ file, code: code ?? 1, signal, output, wall, cpu: usage.cpu, counts });
    });
  });
}

/** Runs the phase's files, `concurrency` at a time, printing each file's output when it ends. */
async function runPhase(phase) {
  const queue = phase.files.map((file, i) => ({ file, i }));
  const done = [];
  async function worker() {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const r = await runFile(next.file, `${phase.name.length}-${next.i}`);
      const ok = r.code === 0;
      process.stdout.write(`\n--- ${ok ? 'ok' : 'FAILED'} ${r.file} (${r.wall.toFixed(1)} s wall, ${r.cpu.toFixed(1)} s CPU)\n${r.output}`);
      done.push(r);
    }
  }
  await Promise.all(Array.from({ length: phase.concurrency }, worker));
  return done;
}

const results = [];
for (const phase of phases) {
  if (phase.files.length === 0) continue;
  console.log(`\n=== ${phase.name}: ${phase.files.length} file(s), concurrency ${phase.concurrency} ===`);
  const started = Date.now();
  const files = await runPhase(phase);
  results.push({ phase, files, seconds: ((Date.now() - started) / 1000).toFixed(1) });
}
await rm(usageDir, { recursive: true, force: true });

const all = results.flatMap((r) => r.files).sort((a, b) => b.wall - a.wall);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
console.log(`\n=== per file, slowest first${showAllDurations ? '' : ' (the 20 slowest; --durations lists all)'} ===`);
console.log('  wall s   CPU s  file');
for (const r of showAllDurations ? all : all.slice(0, 20)) {
  console.log(`${r.wall.toFixed(1).padStart(8)}${r.cpu.toFixed(1).padStart(8)}  ${r.file}`);
}
console.log(`${sum(all.map((r) => r.wall)).toFixed(1).padStart(8)}${sum(all.map((r) => r.cpu)).toFixed(1).padStart(8)}  total of ${all.length} files`);

console.log('\n=== summary ===');
let failed = false;
for (const r of results) {
  const bad = r.files.filter((f) => f.code !== 0);
  failed ||= bad.length > 0;
  const counts = {};
  for (const f of r.files) for (const [k, v] of Object.entries(f.counts)) counts[k] = (counts[k] ?? 0) + v;
  console.log(`${bad.length === 0 ? 'PASS' : 'FAIL'} ${r.phase.name} (${r.files.length} files, ${r.seconds} s)`);
  console.log(`  ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const f of bad) console.log(`  failed: ${f.file}${f.signal ? ` (${f.signal})` : ''}`);
}
process.exit(failed ? 1 : 0);
