import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { KernelError } from '@wharf/sdk';
import { REPO_ROOT } from '../kernel/test-support.js';
import { configProblems, loadConfig } from './load-config.js';
import { redactConfig } from './secrets.js';
import { formatProblem } from './validate.js';

/**
 * Runs every `test/config-cases/<case>/` fixture: `config.yaml` is loaded (with `env` from
 * `expect.json` as the only environment) and the outcome compared with `expect.json`:
 * - `ok` + `config`: the effective config contains these values (`$CASE` is the case dir);
 * - `plugins`: the config paths of the loaded plugins, in registration order;
 * - `secrets` / `redacted`: the secret paths found, and values after redaction;
 * - `error` + `problems`: the error code and exactly these problem lines (any order);
 * - `error` + `messageIncludes`: the error code and fragments of its message.
 */

interface Expect {
  description?: string;
  env?: Record<string, string>;
  ok?: boolean;
  config?: unknown;
  plugins?: string[];
  secrets?: string[];
  redacted?: unknown;
  error?: string;
  problems?: string[];
  messageIncludes?: string[];
}

const CASES_DIR = path.join(REPO_ROOT, 'test/config-cases');

function substitute(value: unknown, caseDir: string): unknown {
  if (typeof value === 'string') return value.replaceAll('$CASE', caseDir);
  if (Array.isArray(value)) return value.map((v) => substitute(v, caseDir));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, caseDir)]));
  }
  return value;
}

/** Every value in `expected` is present and equal in `actual` (arrays: same length, element-wise). */
function assertContains(actual: unknown, expected: unknown, at = '(root)'): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${at}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${at}: array length`);
    expected.forEach((e, i) => assertContains(actual[i], e, `${at}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${at}: expected an object, got ${JSON.stringify(actual)}`);
    for (const [k, v] of Object.entries(expected)) assertContains((actual as Record<string, unknown>)[k], v, `${at}.${k}`);
  } else {
    assert.deepEqual(actual, expected, `${at}`);
  }
}

const cases = readdirSync(CASES_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('config cases (test/config-cases)', () => {
  it('finds the fixtures', () => {
    assert.ok(cases.length >= 10, `only ${cases.length} cases found in ${CASES_DIR}`);
  });

  for (const name of cases) {
    const caseDir = path.join(CASES_DIR, name);
    const expect = substitute(JSON.parse(readFileSync(path.join(caseDir, 'expect.json'), 'utf8')), caseDir) as Expect;
    it(`${name}: ${expect.description ?? ''}`, async () => {
      const run = () => loadConfig({ file: path.join(caseDir, 'config.yaml'), env: expect.env ?? {}, cwd: caseDir });
      if (expect.error) {
        const err = await run().then(
          () => assert.fail(`expected ${expect.error}, but the config loaded`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof KernelError, `expected a KernelError, got ${String(err)}`);
        assert.equal(err.code, expect.error, err.message);
        if (expect.problems) {
          assert.deepEqual(configProblems(err).map(formatProblem).sort(), [...expect.problems].sort());
          for (const p of expect.problems) assert.ok(err.message.includes(p), `message lists "${p}"`);
        }
        for (const fragment of expect.messageIncludes ?? []) assert.ok(err.message.includes(fragment), `"${fragment}" in: ${err.message}`);
        return;
      }
      const loaded = await run();
      assert.ok(Object.isFrozen(loaded.config) && Object.isFrozen(loaded.config.server), 'config is frozen');
      if (expect.config) assertContains(loaded.config, expect.config);
      if (expect.plugins) assert.deepEqual(loaded.plugins.map((p) => p.configPath), expect.plugins);
      if (expect.secrets) assert.deepEqual([...loaded.secrets.paths].sort(), [...expect.secrets].sort());
      if (expect.redacted) {
        const printed = redactConfig(loaded.config, loaded.secrets);
        assertContains(printed, expect.redacted);
        for (const secret of loaded.secrets.values) {
          assert.ok(!JSON.stringify(printed).includes(secret), `secret "${secret}" survived redaction`);
        }
      }
    });
  }
});
