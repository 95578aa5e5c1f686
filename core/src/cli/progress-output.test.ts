import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressOutput } from './contributed-commands.js';

// The output functions contributed commands get: progress in place on a terminal, plain lines elsewhere.

function capture(terminal: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: progressOutput(terminal, { out: (s) => void out.push(s), err: (s) => void err.push(s) }) };
}

describe('contributed command output', () => {
  it('not a terminal: each progress call is a plain stderr line', () => {
    const { out, err, output } = capture(false);
    output.progress('1/3');
    output.progress('2/3');
    output.stdout('done');
    output.end();
    assert.equal(output.terminal, false);
    assert.deepEqual(err, ['1/3\n', '2/3\n']);
    assert.deepEqual(out, ['done\n']);
  });

  it('a terminal: progress rewrites one line, ended before the next output and at the end', () => {
    const { out, err, output } = capture(true);
    output.progress('1/3');
    output.progress('2/3');
    output.stdout('done');
    output.progress('again');
    output.end();
    output.end();
    assert.deepEqual(err, ['\r\x1b[2K1/3', '\r\x1b[2K2/3', '\n', '\r\x1b[2Kagain', '\n']);
    assert.deepEqual(out, ['done\n']);
  });
});
