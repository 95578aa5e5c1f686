import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Execution } from './model.js';
import { createProgress, formatBytes, progressText } from './progress.js';

// `wharf replication run --wait` progress: what a log (not a terminal) receives, and how often.

const execution = (over: Partial<Execution> & { done?: number; failed?: number; total?: number }): Execution => ({
  id: 7, policyId: 1, trigger: 'manual', status: 'running', statusText: '', event: undefined, planned: true,
  startedAt: new Date(0), finishedAt: undefined, bytes: 0,
  tasks: { total: over.total ?? 3, pending: 0, running: 0, succeeded: over.done ?? 0, failed: over.failed ?? 0, stopped: 0, skipped: 0 },
  ...over,
});

describe('replication run --wait progress', () => {
  it('says tasks done of total, failures and bytes; "?" until planned', () => {
    assert.equal(progressText(execution({ done: 1, failed: 1, bytes: 1536 })), 'execution 7: running, 2/3 tasks done, 1 failed, 1.5 KiB copied');
    assert.equal(progressText(execution({ status: 'pending', planned: false, total: 0 })), 'execution 7: pending, 0/? tasks done, 0 failed, 0 B copied');
    assert.equal(formatBytes(3 * 1024 * 1024 * 1024), '3.0 GiB');
  });

  it('not on a terminal: a line per changed state, at most one per interval', () => {
    let clock = 0;
    const lines: string[] = [];
    const report = createProgress({ terminal: false, show: (l) => lines.push(l), intervalMs: 5000, now: () => clock });
    report(execution({ status: 'pending', planned: false, total: 0 }));
    clock = 500;
    report(execution({ done: 1 })); // changed, but within 5 s of the last line: not shown
    clock = 5000;
    report(execution({ status: 'pending', planned: false, total: 0 }));
    clock = 6000;
    report(execution({ done: 2, bytes: 100 }));
    clock = 20_000;
    report(execution({ done: 2, bytes: 100 })); // unchanged: nothing new
    assert.deepEqual(lines, [
      'execution 7: pending, 0/? tasks done, 0 failed, 0 B copied',
      'execution 7: running, 2/3 tasks done, 0 failed, 100 B copied',
    ]);
  });

  it('on a terminal: every change, since each rewrites the same line', () => {
    const lines: string[] = [];
    const report = createProgress({ terminal: true, show: (l) => lines.push(l), now: () => 0 });
    report(execution({ done: 0 }));
    report(execution({ done: 1 }));
    report(execution({ done: 1 }));
    report(execution({ done: 2, failed: 1 }));
    assert.equal(lines.length, 3);
  });
});
