/**
 * Decoding database rows with checks instead of casts: every driver returns its own shapes
 * (pg gives BIGINT as a string, MySQL booleans as 0/1, SQLite blobs as Uint8Array), and a
 * column holding something unexpected should fail loudly, naming the column.
 */

/** One row as a driver returns it, before decoding. */
export type Row = Record<string, unknown>;

/** The rows of a select (knex types them `any`): an array of objects, else a loud error. */
export function rowsOf(result: unknown): Row[] {
  if (!Array.isArray(result) || result.some((r) => typeof r !== 'object' || r === null)) throw new TypeError('database result: expected rows');
  return result as Row[];
}

/** The row of a `.first()`: `undefined` when there is none. */
export function rowOf(result: unknown): Row | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result !== 'object' || Array.isArray(result)) throw new TypeError('database result: expected one row');
  return result as Row;
}

function bad(column: string, expected: string, value: unknown): TypeError {
  return new TypeError(`database column "${column}": expected ${expected}, got ${value === null ? 'null' : value instanceof Date ? 'a Date' : typeof value}`);
}

export function string(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw bad(column, 'a string', value);
  return value;
}

export function optionalString(row: Row, column: string): string | undefined {
  const value = row[column];
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw bad(column, 'a string or null', value);
  return value;
}

/** A safe integer from an INTEGER or BIGINT column (pg returns BIGINT as a decimal string). */
export function bigint(row: Row, column: string): number {
  const value = row[column];
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : typeof value === 'bigint' ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw bad(column, 'an integer', value);
  return n;
}

export const int = bigint;

/** A time stored as BIGINT epoch milliseconds. */
export function date(row: Row, column: string): Date {
  return new Date(bigint(row, column));
}

export function optionalDate(row: Row, column: string): Date | undefined {
  const value = row[column];
  return value === null || value === undefined ? undefined : date(row, column);
}

export function optionalBigint(row: Row, column: string): number | undefined {
  const value = row[column];
  return value === null || value === undefined ? undefined : bigint(row, column);
}

/** Booleans: true/false, or 0/1 from MySQL and SQLite. */
export function bool(row: Row, column: string): boolean {
  const value = row[column];
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  throw bad(column, 'a boolean', value);
}

/** A binary column (BLOB, bytea): a Buffer on every driver. */
export function bytes(row: Row, column: string): Buffer {
  const value = row[column];
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw bad(column, 'bytes', value);
}

/** A JSON text column, parsed. */
export function json(row: Row, column: string): unknown {
  const text = string(row, column);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new TypeError(`database column "${column}": not valid JSON`);
  }
}

/** A string column holding one of `values` (an enum stored as text). */
export function oneOf<const V extends string>(row: Row, column: string, values: readonly V[]): V {
  const value = string(row, column);
  if (!(values as readonly string[]).includes(value)) throw new TypeError(`database column "${column}": "${value.slice(0, 40)}" is not one of ${values.join(', ')}`);
  return value as V;
}
