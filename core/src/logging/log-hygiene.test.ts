import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';
import { MAX_LOG_STRING } from './log-hygiene.js';

/** Every line of the root logger is free of raw bytes and bounded, whatever the call passes. */

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'debug', format: 'json', destination: stream }) };
}

describe('log hygiene', () => {
  it('drops raw packets and bodies from errors and objects, at any depth', () => {
    const { lines, log } = capture();
    const err = Object.assign(new Error('Parse Error: Invalid character in chunk size'), {
      code: 'HPE_INVALID_CHUNK_SIZE',
      rawPacket: Buffer.from('POST /service/token HTTP/1.1\r\nAuthorization: Basic YWRtaW46cHc=\r\n\r\npassword=pw'),
    });
    log.error({ err }, 'request failed');
    log.warn({ wrapped: { error: err, body: 'password=pw', nested: { rawPacket: 'x' } } }, 'nested');
    log.info(err);
    const text = lines.join('\n');
    assert.ok(!text.includes('rawPacket') && !text.includes('YWRtaW46') && !text.includes('password=pw'), text);
    const first = JSON.parse(lines[0]!) as { err: { code: string; type: string; stack: string } };
    assert.equal(first.err.code, 'HPE_INVALID_CHUNK_SIZE');
    assert.equal(first.err.type, 'Error');
    assert.match(first.err.stack, /^Error: Parse Error/);
  });

  it('writes byte buffers as their length only', () => {
    const { lines, log } = capture();
    log.info({ data: Buffer.from('secret bytes'), view: new Uint8Array(7) }, 'bytes');
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.data, '[12 bytes]');
    assert.equal(line.view, '[7 bytes]');
  });

  it('caps long strings in fields, messages, error messages and stacks', () => {
    const { lines, log } = capture();
    const huge = 'u'.repeat(11_000);
    log.warn({ user: huge, deep: { list: [huge] } }, 'login failed');
    log.info(`message with ${huge}`);
    log.error({ err: new Error(`invalid tag ${huge}`) }, 'request failed');
    for (const line of lines) assert.ok(line.length < 4096, `${line.length} bytes`);
    const first = JSON.parse(lines[0]!) as { user: string };
    assert.ok(first.user.startsWith('u'.repeat(MAX_LOG_STRING)));
    assert.match(first.user, /…\[10488 more characters\]$/);
  });

  it('leaves ordinary lines as they were', () => {
    const { lines, log } = capture();
    log.info({ method: 'GET', status: 200, ms: 1.5, tags: ['a', 'b'], when: new Date(0) }, 'request');
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual([line.method, line.status, line.ms, line.tags, line.when, line.msg], ['GET', 200, 1.5, ['a', 'b'], '1970-01-01T00:00:00.000Z', 'request']);
  });
});
