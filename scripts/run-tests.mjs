#!/usr/bin/env node
// Runs every compiled test file (tsc -b must have run first; `npm test` does that).
// Unit and API tests: sdk/, core/, plugins/, server/, examples/ and test/dist/ (except e2e) with concurrency 2.
// End-to-end tests: test/dist/e2e/**, one file at a time (they start servers and clients).
// `npm test -- <substring>` keeps only the files whose path contains <substring>;
// `npm test -- --list [<substring>]` prints the selected files and runs nothing.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2).filter((a) => a !== '--');
const listOnly = args.includes('--list');
const filters = args.filter((a) => a !== '--list');

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
const selected = [...new Set(files)]
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));

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
