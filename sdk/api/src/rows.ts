/**
 * Decoding database rows with checks instead of casts: every driver returns its own shapes
 * (pg gives BIGINT as a string, MySQL booleans as 0/1, SQLite blobs as Uint8Array), and a
 * column holding something unexpected should fail loudly, naming the column. The kernel's stores
 * and plugins' stores use the same decoders.
 *
 * @example
 * ```ts
 * const row = rowOf(await db('notes').where({ id }).first());
 * return row && { id: column.bigint(row, 'id'), text: column.string(row, 'text') };
 * ```
 */

/** One row as a driver returns it, before decoding. */
export type DbRow = Record<string, unknown>;

/** The rows of a select (knex types them `any`): an array of objects, else a loud error. */
export function rowsOf(result: unknown): DbRow[] {
  if (!Array.isArray(result) || result.some((r) => typeof r !== 'object' || r === null)) throw new TypeError('database result: expected rows');
  return result as DbRow[];
}

/** The row of a `.first()`: `undefined` when there is none. */
export function rowOf(result: unknown): DbRow | undefined {
  if (result === undefined || result === null) return undefined;
  if (typeof result !== 'object' || Array.isArray(result)) throw new TypeError('database result: expected one row');
  return result as DbRow;
}

function bad(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`database column "${name}": expected ${expected}, got ${value === null ? 'null' : value instanceof Date ? 'a Date' : typeof value}`);
}

function string(row: DbRow, name: string): string {
  const value = row[name];
  if (typeof value !== 'string') throw bad(name, 'a string', value);
  return value;
}

function optionalString(row: DbRow, name: string): string | undefined {
  const value = row[name];
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') throw bad(name, 'a string or null', value);
  return value;
}

/** A safe integer from an INTEGER or BIGINT column (pg returns BIGINT as a decimal string). */
function bigint(row: DbRow, name: string): number {
  const value = row[name];
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : typeof value === 'bigint' ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw bad(name, 'an integer', value);
  return n;
}


/** A time stored as BIGINT epoch milliseconds. */
function date(row: DbRow, name: string): Date {
  return new Date(bigint(row, name));
}

function optionalDate(row: DbRow, name: string): Date | undefined {
  const value = row[name];
  return value === null || value === undefined ? undefined : date(row, name);
}

function optionalBigint(row: DbRow, name: string): number | undefined {
  const value = row[name];
  return value === null || value === undefined ? undefined : bigint(row, name);
}

/** Booleans: true/false, or 0/1 from MySQL and SQLite. */
function bool(row: DbRow, name: string): boolean {
  const value = row[name];
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  throw bad(name, 'a boolean', value);
}

/** A binary column (BLOB, bytea): a Buffer on every driver. */
function bytes(row: DbRow, name: string): Buffer {
  const value = row[name];
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw bad(name, 'bytes', value);
}

/** A JSON text column, parsed. */
function json(row: DbRow, name: string): unknown {
  const text = string(row, name);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new TypeError(`database column "${name}": not valid JSON`);
  }
}

/** A string column holding one of `values` (an enum stored as text). */
function oneOf<const V extends string>(row: DbRow, name: string, values: readonly V[]): V {
  const value = string(row, name);
  if (!(values as readonly string[]).includes(value)) throw new TypeError(`database column "${name}": "${value.slice(0, 40)}" is not one of ${values.join(', ')}`);
  return value as V;
}

/**
 * Checked decoders for one column of a row; each throws a `TypeError` naming the column when the
 * value has another shape.
 */
export const column = Object.freeze({ string, optionalString, bigint, int: bigint, date, optionalDate, optionalBigint, bool, bytes, json, oneOf });
