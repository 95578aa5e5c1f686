import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * The web app's source and build, without a browser: the first page's weight, the two
 * languages' completeness, and every API call the app makes being an operation of the API's
 * OpenAPI document (web/openapi.json, which test/api/ui-binary.test.ts keeps equal to the
 * server's).
 */

const ui = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ui, path), 'utf8');
const BUDGET_BYTES = 250 * 1024;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

describe('the built app (web-dist, from npm run build)', () => {
  const index = read('web-dist/index.html');

  it(`loads the first page with under ${BUDGET_BYTES / 1024} KB of gzipped JavaScript and CSS`, () => {
    const assets = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1] as string);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), `index.html names its script and stylesheet: ${assets.join(', ')}`);
    // Chunks a script imports statically load with it.
    const seen = new Set<string>();
    const queue = [...assets];
    while (queue.length) {
      const asset = queue.pop() as string;
      if (seen.has(asset)) continue;
      seen.add(asset);
      if (asset.endsWith('.js')) for (const m of read(`web-dist${asset}`).matchAll(/(?:from|import)\s*"\.\/([^"]+\.js)"/g)) queue.push(`/assets/${m[1]}`);
    }
    const total = [...seen].reduce((sum, a) => sum + gzipSync(readFileSync(join(ui, `web-dist${a}`)), { level: 9 }).length, 0);
    assert.ok(total < BUDGET_BYTES, `first page: ${total} gzipped bytes`);
  });

  it('names every asset by content hash and has no inline script or style', () => {
    for (const name of readdirSync(join(ui, 'web-dist/assets'))) assert.match(name, /-[A-Za-z0-9_-]{8}\.(js|css)$/, name);
    assert.doesNotMatch(index, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(index, /<style|style="/);
  });
});

describe('i18n: English and Simplified Chinese', () => {
  const en = JSON.parse(read('web/src/i18n/en.json')) as Record<string, string>;
  const zh = JSON.parse(read('web/src/i18n/zh-CN.json')) as Record<string, string>;
  const same = new Set((JSON.parse(read('web/src/i18n/same-as-english.json')) as { keys: string[] }).keys);

  it('have the same keys', () => {
    assert.deepEqual(Object.keys(zh).filter((k) => !(k in en)), [], 'keys only in zh-CN');
    assert.deepEqual(Object.keys(en).filter((k) => !(k in zh)), [], 'keys missing in zh-CN');
  });

  it('translate every string, except those listed as the same on purpose', () => {
    assert.deepEqual(Object.keys(en).filter((k) => zh[k] === en[k] && !same.has(k)), [], 'Chinese strings still equal to English');
    assert.deepEqual([...same].filter((k) => zh[k] !== en[k]), [], 'same-as-english.json lists keys that differ');
  });

  it('keep the same placeholders', () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(Object.keys(en).filter((k) => JSON.stringify(names(en[k] as string)) !== JSON.stringify(names(zh[k] ?? ''))), []);
  });

  it('every key the code uses exists', () => {
    const used = new Set<string>();
    for (const file of sourceFiles(join(ui, 'web/src'))) for (const m of readFileSync(file, 'utf8').matchAll(/\bt\('([a-zA-Z.]+)'/g)) used.add(m[1] as string);
    assert.ok(used.size > 40, `found ${used.size} keys in use`);
    assert.deepEqual([...used].filter((k) => !(k in en)), []);
  });
});

describe('API calls', () => {
  it('are all operations of the OpenAPI document, made through the generated client', () => {
    const doc = JSON.parse(read('web/openapi.json')) as { paths: Record<string, Record<string, unknown>> };
    const calls: string[] = [];
    for (const file of sourceFiles(join(ui, 'web/src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bapi\.(GET|POST|PUT|PATCH|DELETE|HEAD)\(\s*'([^']+)'/g)) calls.push(`${m[1]} ${m[2]}`);
      // No hand-written fetch of the API: only the generated client reaches /api/v1.
      assert.doesNotMatch(text, /fetch\([^)]*\/api\/v1/, file);
    }
    assert.ok(calls.length >= 5, `found ${calls.length} calls`);
    const missing = calls.filter((c) => {
      const [method, path] = c.split(' ') as [string, string];
      return !doc.paths[path]?.[method.toLowerCase()];
    });
    assert.deepEqual(missing, [], 'calls of operations the document lacks');
  });
});
