import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { ApiError } from '@wharf/sdk';
import { RequestValidators } from './api/request-validation.js';
import { announcesBody, parseDecimal } from './integers.js';

/** Numbers from requests: plain decimals only, and a guard that keeps loose parsing out. */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('parseDecimal', () => {
  it('reads plain decimal digits within the safe range', () => {
    assert.equal(parseDecimal('0'), 0);
    assert.equal(parseDecimal('42'), 42);
    assert.equal(parseDecimal('9007199254740991'), Number.MAX_SAFE_INTEGER);
  });

  it('refuses every other spelling Number() or parseInt() would accept', () => {
    for (const raw of ['0x1', '1e0', ' 1', '1 ', '1.0', '+1', '-1', '1e400', 'Infinity', '', '0b1', '1_000', '9007199254740993', '١']) {
      assert.equal(parseDecimal(raw), undefined, JSON.stringify(raw));
    }
  });

  it('tells a body from none by Content-Length or Transfer-Encoding', () => {
    assert.equal(announcesBody('0', ''), false);
    assert.equal(announcesBody('12', ''), true);
    assert.equal(announcesBody('', 'chunked'), true);
    assert.equal(announcesBody('', ''), false);
  });
});

describe('management API parameters', () => {
  const validators = new RequestValidators();
  const params = validators.compile('path parameter', Type.Object({ id: Type.Integer({ minimum: 1 }) }));
  const query = validators.compile('query parameter', Type.Object({ n: Type.Optional(Type.Array(Type.Integer())), f: Type.Optional(Type.Number()) }));

  it('converts plain decimals and refuses hex, exponents, spaces and infinities', () => {
    assert.deepEqual(params({ id: '7' }), { id: 7 });
    assert.deepEqual(query({ n: ['1', '-2'], f: '2.5' }), { n: [1, -2], f: 2.5 });
    for (const id of ['0x1', '1e0', ' 1', '1e400', '1.0']) {
      assert.throws(() => params({ id }), (err: unknown) => err instanceof ApiError && /must be integer/.test(err.message), id);
    }
    assert.throws(() => query({ n: ['1', '0x2'] }), ApiError);
    assert.throws(() => query({ f: '1e400' }), ApiError);
  });
});

/**
 * The class guard: request-handling code (the kernel's HTTP layer and auth, plugins' API
 * handlers) never calls `parseInt`, `parseFloat` or `Number(...)` itself; `integers.ts` is the
 * one reader. A new use fails here until it goes through `parseDecimal` (or is listed below
 * with the reason it does not read request input).
 */
const NOT_REQUEST_INPUT: readonly string[] = [
  // Elapsed time from a bigint, in the access log.
  'durationMs: Number((process.hrtime.bigint() - start) / 10_000n) / 100',
  // An audit cursor's two numbers, each matched by /^\d{1,15}$/ first.
  'return { time: Number(m[1]), id: Number(m[2]) };',
];

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(path.join(e.parentPath, e.name));
  }
  return out;
}

describe('guard: no loose number parsing of request input', () => {
  it('finds no parseInt, parseFloat or Number() in request-handling sources', async () => {
    const dirs = [path.join(repoRoot, 'core/src/http'), path.join(repoRoot, 'core/src/auth')];
    for (const plugin of await readdir(path.join(repoRoot, 'plugins'))) dirs.push(path.join(repoRoot, 'plugins', plugin, 'src/api'));
    const offenders: string[] = [];
    let scanned = 0;
    for (const dir of dirs) {
      for (const file of await sourceFiles(dir)) {
        if (file.endsWith(path.join('http', 'integers.ts'))) continue;
        scanned++;
        const lines = (await readFile(file, 'utf8')).split('\n');
        lines.forEach((line, i) => {
          if (!/\b(parseInt|parseFloat)\(|(?<![.\w])Number\(/.test(line)) return;
          if (NOT_REQUEST_INPUT.some((allowed) => line.includes(allowed))) return;
          offenders.push(`${path.relative(repoRoot, file)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    assert.ok(scanned > 20, `scanned ${scanned} files`);
    assert.deepEqual(offenders, []);
  });
});
