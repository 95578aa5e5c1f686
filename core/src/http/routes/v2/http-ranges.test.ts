import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '@wharf/sdk';
import { contentLength, parseContentRange, parseRangeHeader } from './http-ranges.js';

describe('Range parsing', () => {
  it('resolves the three forms against the size', () => {
    assert.deepEqual(parseRangeHeader('bytes=0-4', 10), { start: 0, end: 4 });
    assert.deepEqual(parseRangeHeader('bytes=4-', 10), { start: 4, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=-30', 10), { start: 0, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=8-30', 10), { start: 8, end: 9 });
  });
  it('ignores absent, multi-range or reversed ranges', () => {
    assert.equal(parseRangeHeader(undefined, 10), undefined);
    assert.equal(parseRangeHeader('bytes=0-1,3-4', 10), undefined);
    assert.equal(parseRangeHeader('bytes=5-2', 10), undefined);
    assert.equal(parseRangeHeader('items=1-2', 10), undefined);
  });
  it('answers 416 for unsatisfiable ranges', () => {
    for (const [h, size] of [['bytes=10-', 10], ['bytes=-0', 10], ['bytes=0-', 0]] as const) {
      assert.throws(() => parseRangeHeader(h, size), (e: RegistryError) => e.status === 416 && e.headers['Content-Range'] === `bytes */${size}`);
    }
  });
  it('parses chunk Content-Range in the OCI and HTTP forms', () => {
    assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
    assert.deepEqual(parseContentRange('bytes 100-199/*'), { start: 100, end: 199 });
    assert.equal(parseContentRange(undefined), undefined);
    assert.throws(() => parseContentRange('abc'), (e: RegistryError) => e.status === 416);
    assert.equal(contentLength('12'), 12);
    assert.throws(() => contentLength('-1'), (e: RegistryError) => e.code === 'SIZE_INVALID');
  });
});
