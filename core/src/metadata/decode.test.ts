import assert from 'node:assert/strict';
import { it } from 'node:test';
import { bigint, bytes, date, optionalBigint, optionalDate, optionalString, rowOf, rowsOf, string } from './decode.js';

/**
 * The row decoders every metadata query uses: each driver's shape of the same value becomes the
 * same JavaScript value, and anything else fails naming the column (the content queries'
 * tests check the real drivers' rows on all three databases).
 */

it('reads an integer the way each driver returns it: number (SQLite, MySQL), decimal string (pg BIGINT, SUM), bigint', () => {
  assert.equal(bigint({ n: 42 }, 'n'), 42);
  assert.equal(bigint({ n: '42' }, 'n'), 42);
  assert.equal(bigint({ n: 42n }, 'n'), 42);
  assert.equal(bigint({ n: '-7' }, 'n'), -7);
  assert.equal(optionalBigint({ n: null }, 'n'), undefined);
  assert.equal(optionalBigint({}, 'n'), undefined);
});

it('refuses what is not an integer, naming the column: fractions, dates, date strings, unsafe values, null', () => {
  for (const value of ['12.5', 12.5, new Date(0), '2026-12-06T00:00:00Z', '', true, null, '9007199254740993', 2n ** 60n]) {
    assert.throws(() => bigint({ size: value }, 'size'), (err: unknown) => err instanceof TypeError && /"size": expected an integer/.test(err.message), String(value));
  }
  assert.throws(() => bigint({ at: new Date(0) }, 'at'), /got a Date/);
});

it('turns an epoch-millisecond column into a Date, and nothing else', () => {
  assert.equal(date({ at: '1700000000000' }, 'at').getTime(), 1_700_000_000_000);
  assert.equal(date({ at: 1_700_000_000_000 }, 'at').getTime(), 1_700_000_000_000);
  assert.equal(optionalDate({ at: null }, 'at'), undefined);
  assert.throws(() => date({ at: '2023-11-14 22:13:20' }, 'at'), /"at": expected an integer, got string/);
});

it('reads strings and binary columns strictly', () => {
  assert.equal(string({ s: 'x' }, 's'), 'x');
  assert.equal(optionalString({ s: null }, 's'), undefined);
  assert.throws(() => string({ s: 5 }, 's'), /"s": expected a string, got number/);
  const fromUint8 = bytes({ b: new Uint8Array([1, 2, 3]) }, 'b');
  assert.ok(Buffer.isBuffer(fromUint8));
  assert.deepEqual([...fromUint8], [1, 2, 3]);
  assert.throws(() => bytes({ b: 'AQID' }, 'b'), /"b": expected bytes, got string/);
});

it('accepts rows only where rows are expected', () => {
  assert.deepEqual(rowsOf([{ a: 1 }]), [{ a: 1 }]);
  assert.throws(() => rowsOf({ a: 1 }), /expected rows/);
  assert.throws(() => rowsOf([1]), /expected rows/);
  assert.equal(rowOf(undefined), undefined);
  assert.deepEqual(rowOf({ a: 1 }), { a: 1 });
  assert.throws(() => rowOf([{ a: 1 }]), /expected one row/);
});
