import type { Knex } from 'knex';
import { ApiError } from './management-api.js';

/**
 * `sort=` of the management API's list operations: comma-separated fields, each ascending or,
 * with a leading `-`, descending (`sort=-createdAt,name`). An operation names the fields it
 * sorts by in `sorts` (the item's property names); the kernel parses and validates the
 * parameter into `req.page.sort`, and the handler turns it into an ORDER BY with
 * {@link orderBySort} (or sorts in memory with {@link compareBySort}). Ties always break on a
 * unique column, so pages never repeat or skip a row.
 * @see docs/architecture/10-management-api.md
 * @since 0.2.0
 */
export interface ApiSortKey {
  /** One of the operation's `sorts`. */
  readonly field: string;
  readonly descending: boolean;
}

const FIELD = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Parses `sort=` against the fields an operation allows. An unknown, repeated or empty field is
 * a `BAD_REQUEST` naming the allowed fields. An absent or empty parameter gives no keys (the
 * operation's default order).
 * @since 0.2.0
 */
export function parseSort(raw: string | undefined, allowed: readonly string[]): readonly ApiSortKey[] {
  if (raw === undefined || raw === '') return Object.freeze([]);
  const known = allowed.length > 0 ? `sorts by ${allowed.join(', ')}` : 'takes no sort';
  const keys: ApiSortKey[] = [];
  for (const part of raw.split(',')) {
    const descending = part.startsWith('-');
    const field = descending ? part.slice(1) : part;
    if (!allowed.includes(field)) {
      const shown = FIELD.test(field) ? `unknown field "${field.slice(0, 50)}"` : `"${part.slice(0, 50)}" is not a field or -field`;
      throw new ApiError('BAD_REQUEST', `invalid query parameter: /sort: ${shown} (this operation ${known}; "-" for descending)`);
    }
    if (keys.some((k) => k.field === field)) throw new ApiError('BAD_REQUEST', `invalid query parameter: /sort: "${field}" appears twice`);
    keys.push(Object.freeze({ field, descending }));
  }
  return Object.freeze(keys);
}

/**
 * The `pattern` of a `sort=` value for these fields (the OpenAPI document's schema).
 * @since 0.2.0
 */
export function sortPattern(allowed: readonly string[]): string {
  const field = `-?(?:${allowed.join('|')})`;
  return `^${field}(?:,${field})*$`;
}

/** What a sort field orders by: a column name (quoted by knex) or a fixed expression. @since 0.2.0 */
export type SortColumn = string | Knex.Raw;

/**
 * Adds the ORDER BY of `sort` to a query: each key through `columns` (field to column; never
 * the caller's text), `fallback` when `sort` is empty, then `tieBreaker` (default `id`, a
 * unique column) ascending unless a key already named it. Throws a `TypeError` for a field
 * `columns` does not map (a plugin's bug: `sorts` and `columns` disagree).
 * @since 0.2.0
 */
export function orderBySort<Q extends Knex.QueryBuilder>(
  query: Q,
  sort: readonly ApiSortKey[],
  columns: Readonly<Record<string, SortColumn>>,
  options: { readonly fallback?: readonly ApiSortKey[]; readonly tieBreaker?: SortColumn } = {},
): Q {
  const keys = sort.length > 0 ? sort : (options.fallback ?? []);
  const tieBreaker = options.tieBreaker ?? 'id';
  let tied = false;
  for (const key of keys) {
    const column = Object.prototype.hasOwnProperty.call(columns, key.field) ? columns[key.field] : undefined;
    if (column === undefined) throw new TypeError(`orderBySort: no column for sort field "${key.field}"`);
    if (column === tieBreaker) tied = true;
    query.orderBy(column as string, key.descending ? 'desc' : 'asc');
  }
  if (!tied) query.orderBy(tieBreaker as string, 'asc');
  return query;
}

/** A value an in-memory sort compares: strings by UTF-16 code unit, numbers, dates; `null` after the rest when ascending. @since 0.2.0 */
export type SortValue = string | number | Date | null | undefined;

/**
 * A comparator for lists sorted in memory (not one SQL query): each key through `values`, then
 * `fallback` when `sort` is empty, then `tieBreaker` ascending.
 * @since 0.2.0
 */
export function compareBySort<T>(
  sort: readonly ApiSortKey[],
  values: Readonly<Record<string, (item: T) => SortValue>>,
  options: { readonly fallback?: readonly ApiSortKey[]; readonly tieBreaker: (item: T) => SortValue },
): (a: T, b: T) => number {
  const keys = sort.length > 0 ? sort : (options.fallback ?? []);
  const getters = keys.map((key) => {
    const get = Object.prototype.hasOwnProperty.call(values, key.field) ? values[key.field] : undefined;
    if (!get) throw new TypeError(`compareBySort: no value for sort field "${key.field}"`);
    return { get, sign: key.descending ? -1 : 1 };
  });
  getters.push({ get: options.tieBreaker, sign: 1 });
  return (a, b) => {
    for (const { get, sign } of getters) {
      const c = compareValues(get(a), get(b));
      if (c !== 0) return c * sign;
    }
    return 0;
  };
}

function compareValues(a: SortValue, b: SortValue): number {
  const nullA = a === null || a === undefined;
  const nullB = b === null || b === undefined;
  if (nullA || nullB) return nullA === nullB ? 0 : nullA ? 1 : -1;
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  return x < y ? -1 : x > y ? 1 : 0;
}
