#!/usr/bin/env node
// Runs every compiled test file (tsc -b must have run first; `npm test` does that).
// Unit and API tests: sdk/, core/, plugins/, server/, examples/ and test/dist/ (except e2e) with concurrency 2.
// End-to-end tests: test/dist/e2e/**, one file at a time (they start servers and clients).
// `npm test -- <substring>` keeps only the files whose path contains <substring>;
// `npm test -- --list [<substring>]` prints the selected files and runs nothing.
// `--quick` (`npm run test:quick`) is the development tier: SQLite only, 32 MiB "large" blobs in
// the storage conformance suites, and without the files in QUICK_LEAVES_OUT below, which it names
// when it starts. `npm test` (what CI runs) keeps every file and every database.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2).filter((a) => a !== '--');
const listOnly = args.includes('--list');
const quick = args.includes('--quick');
const filters = args.filter((a) => a !== '--list' && a !== '--quick');

/**
 * What the quick tier leaves to `npm test`, and why: tests that drive outside programs or whose
 * size is their point. Each entry names the compiled files it covers, so none goes unnoticed.
 */
const QUICK_LEAVES_OUT = [
  { files: 'test/dist/e2e/*', why: 'end-to-end tests with real clients (skopeo, podman, buildah, docker login) and peers' },
  { files: 'plugins/replication-oci/dist/memory.test.js', why: 'moves 256 MiB blobs to bound memory use' },
  { files: 'server/dist/*', why: 'the wharf binary\'s tests: each command runs it as a child process' },
  { files: 'plugins/auth-db/dist/cli.test.js', why: 'wharf user commands, each a child process' },
  { files: 'plugins/rbac-projects/dist/cli.test.js', why: 'wharf project and robot commands, each a child process' },
  { files: 'plugins/extension-repositories/dist/cli.test.js', why: 'wharf repo and artifact commands, each a child process' },
  { files: 'plugins/tag-immutability/dist/cli.test.js', why: 'wharf immutability commands, each a child process' },
  { files: 'plugins/gc/dist/cli.test.js', why: 'wharf gc commands, each a child process' },
  { files: 'sdk/create-plugin/dist/*', why: 'wharf plugin new: scaffolds, builds with tsc and runs npm' },
  { files: 'test/dist/docs/api-report.test.js', why: 'reruns api-extractor (npm run api-report)' },
  { files: 'test/dist/docs/generated-docs.test.js', why: 'reruns the reference generator (npm run docs)' },
].map((r) => ({ ...r, covers: (f) => (r.files.endsWith('*') ? f.startsWith(r.files.slice(0, -1)) : f === r.files) }));
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

const e2ePrefix = ['test', 'dist', 'e2e', ''].join(sep);
const phases = [
  { name: 'unit and API tests', concurrency: 2, files: selected.filter((f) => !f.startsWith(e2ePrefix)) },
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

const SUMMARY = /^[ℹ#] (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;

/** Runs node --test on the files; passes output through and keeps the summary lines. */
function runPhase(phase) {
  return new Promise((resolve) => {
    const args = ['--test', '--test-reporter=spec', `--test-concurrency=${phase.concurrency}`, ...phase.files];
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const summary = [];
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      process.stdout.write(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (SUMMARY.test(line)) summary.push(line);
    });
    child.on('close', (code, signal) => {
      if (SUMMARY.test(pending)) summary.push(pending);
      resolve({ code: code ?? 1, signal, summary });
    });
  });
}

const results = [];
for (const phase of phases) {
  if (phase.files.length === 0) continue;
  console.log(`\n=== ${phase.name}: ${phase.files.length} file(s), concurrency ${phase.concurrency} ===`);
  const started = Date.now();
  const r = await runPhase(phase);
  results.push({ phase, ...r, seconds: ((Date.now() - started) / 1000).toFixed(1) });
}

console.log('\n=== summary ===');
let failed = false;
for (const r of results) {
  const ok = r.code === 0;
  failed ||= !ok;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${r.phase.name} (${r.phase.files.length} files, ${r.seconds} s${r.signal ? `, ${r.signal}` : ''})`);
  for (const line of r.summary) console.log(`  ${line}`);
}
process.exit(failed ? 1 : 0);
