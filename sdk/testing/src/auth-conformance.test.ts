import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { AuthFault } from './fixtures/run-auth-conformance.js';

// The auth conformance suite must pass a correct provider and fail broken ones, each in the
// test about that rule: it runs in a child `node --test` against an in-memory provider.

const runner = fileURLToPath(new URL('./fixtures/run-auth-conformance.js', import.meta.url));

async function failedTitles(fault: AuthFault): Promise<{ code: number | null; titles: string[]; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, WHARF_AUTH_FAULT: fault };
  delete env['NODE_TEST_CONTEXT']; // else the child reports to this runner instead of printing TAP
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', runner], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const titles = [...output.matchAll(/^\s*not ok \d+ - (.+)$/gm)].map((m) => String(m[1])).filter((t) => !t.startsWith('memory provider') && !t.includes('run-auth-conformance'));
  return { code, titles, output };
}

describe('runAuthProviderConformance', () => {
  it('passes a correct provider', async () => {
    const { code, titles, output } = await failedTitles('none');
    assert.equal(code, 0, output.slice(-3000));
    assert.deepEqual(titles, []);
  });

  for (const [fault, title] of [
    ['wrong-password-is-not-mine', 'refuses a wrong password of a known user with UNAUTHORIZED, not "not mine"'],
    ['logs-password', 'wrote no password it was given to any log line'],
    ['claims-bearer', 'leaves anonymous and bearer credentials to others'],
    ['ignores-refusal', 'refuses a user once it is disabled or removed'],
  ] as const) {
    it(`fails a provider with the fault "${fault}" in "${title}" only`, async () => {
      const { code, titles } = await failedTitles(fault);
      assert.notEqual(code, 0);
      assert.deepEqual(titles, [title]);
    });
  }
});
