/**
 * Decoding database rows with checks instead of casts: every driver returns its own shapes
 * (pg gives BIGINT as a string, MySQL booleans as 0/1, SQLite blobs as Uint8Array), and a
 * column holding something unexpected should fail loudly, naming the column.
 */

type Row = Record<string, unknown>;

function bad(column: string, expected: string, value: unknown): TypeError {
  return new TypeError(`database column "${column}": expected ${expected}, got ${value === null ? 'null' : typeof value}`);
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
