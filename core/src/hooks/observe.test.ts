import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHooks, createPluginHooks, observe } from './index.js';

/** Observation hooks: skipped when untapped, and a throwing tap never reaches the observed work. */

describe('observe', () => {
  it('does not build the observation of an untapped hook', () => {
    const hooks = createHooks();
    let built = 0;
    observe(hooks.storage.operationFinished, () => {
      built++;
      return { driver: 'fs', operation: 'stat', durationMs: 1, ok: true };
    });
    assert.equal(built, 0);
  });

  it('delivers the observation, and a tap that throws is logged, never thrown to the caller', () => {
    const hooks = createHooks();
    const seen: string[] = [];
    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => void warnings.push(o) } as never;
    createPluginHooks(hooks, 'metrics', () => false).jobs.attemptFinished.tap('metrics', (a) => void seen.push(`${a.type}:${a.outcome}`));
    createPluginHooks(hooks, 'broken', () => false).jobs.attemptFinished.tap('broken', () => {
      throw new Error('tap bug');
    });
    assert.doesNotThrow(() => observe(hooks.jobs.attemptFinished, () => ({ type: 'gc', outcome: 'succeeded' as const, attempt: 1, durationMs: 5 }), logger));
    assert.deepEqual(seen, ['gc:succeeded']);
    assert.equal(warnings.length, 1);
  });
});
