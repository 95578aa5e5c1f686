import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { MemoryFault } from './fixtures/memory-driver.js';

// The conformance suite must pass a correct driver and fail broken ones, each for the right
// reason: it runs in a child `node --test` against an in-memory driver with one fault.

const runner = fileURLToPath(new URL('./fixtures/run-memory-conformance.js', import.meta.url));

async function runSuite(fault: MemoryFault): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, WHARF_MEMORY_FAULT: fault };
  delete env['WHARF_CONFORMANCE_LARGE_BYTES'];
  // Under a parent `node --test`, this would make the child report to the parent, not print TAP.
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', runner], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

/** Titles of the suite's tests that failed, from TAP output. */
function failed(output: string): string[] {
  return [...output.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => String(m[1]));
}

describe('runStorageConformance', () => {
  it('passes a correct driver', async () => {
    const { code, output } = await runSuite('none');
    assert.equal(code, 0, output.slice(-3000));
    assert.deepEqual(failed(output), []);
  });

  it('fails a driver that leaves aborted uploads behind, in the leftovers check', async () => {
    const { code, output } = await runSuite('leaks-aborted-uploads');
    assert.notEqual(code, 0);
    assert.match(output, /nothing is left in the backend after teardown/);
  });

  it('fails a driver that serves past the end of a range, in the range test', async () => {
    const { code, output } = await runSuite('ignores-range-end');
    assert.notEqual(code, 0);
    assert.ok(failed(output).some((title) => title.startsWith('serves inclusive byte ranges')), failed(output).join('\n'));
  });

  it('fails a driver that loses appends, in the multi-instance and chunk tests', async () => {
    const { code, output } = await runSuite('loses-second-append');
    assert.notEqual(code, 0);
    const titles = failed(output);
    assert.ok(titles.some((title) => title.startsWith('continues one upload across three driver instances')), titles.join('\n'));
    assert.ok(titles.some((title) => title.startsWith('appends uneven chunks across multi-MiB boundaries')), titles.join('\n'));
  });
});
