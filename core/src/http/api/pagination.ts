import { ApiError, parseSort, type ApiFilter, type ApiPageRequest } from '@wharf/sdk';
import { parseDecimal } from '../integers.js';

/**
 * Pagination and `q=` filters of list operations, as Harbor's API has them:
 * `page` (from 1, default 1), `page_size` (1 to 100, default 10; 101 is refused, never clamped,
 * so a client never silently gets less than it asked for), and
 * `q=key=value,key=~value` (exact and substring matches; values are URL-decoded, so a literal
 * `,` is sent as `%2C` inside the already-encoded query). Harbor's range and list forms
 * (`k=[a~b]`, `k={a b}`, `k=(a b)`) are refused as unsupported rather than taken literally.
 * On operations that declare `sorts`, `sort=field,-field` too (parsed by the SDK's `parseSort`).
 */

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;
/** Query keys the kernel owns on list operations (and `sort` on those that declare `sorts`). */
export const PAGINATION_KEYS: readonly string[] = ['page', 'page_size', 'q'];
export const SORT_KEY = 'sort';

type QueryValue = string | string[] | undefined;

function single(name: string, value: QueryValue): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw new ApiError('BAD_REQUEST', `invalid query parameter: /${name}: must appear once`);
    return value[0];
  }
  return value;
}

function integer(name: string, value: QueryValue, fallback: number, max: number): number {
  const raw = single(name, value);
  if (raw === undefined) return fallback;
  const n = parseDecimal(raw);
  if (n === undefined || n < 1 || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? 'from 1' : `from 1 to ${max}`;
    throw new ApiError('BAD_REQUEST', `invalid query parameter: /${name}: must be an integer ${range}`);
  }
  return n;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ApiError('BAD_REQUEST', `invalid query parameter: /q: "${part.slice(0, 50)}" is not valid percent-encoding`);
  }
}

const RANGE_OR_LIST = /^(\[.*\]|\{.*\}|\(.*\))$/s;

/** Parses `q`; `allowed` are the keys the operation declared in `filters`. */
export function parseFilters(q: string | undefined, allowed: readonly string[]): Record<string, ApiFilter> {
  const filters: Record<string, ApiFilter> = {};
  if (q === undefined || q === '') return filters;
  for (const condition of q.split(',')) {
    const eq = condition.indexOf('=');
    if (eq <= 0) throw new ApiError('BAD_REQUEST', `invalid query parameter: /q: "${condition.slice(0, 50)}" is not key=value or key=~value`);
    const key = decode(condition.slice(0, eq));
    let raw = condition.slice(eq + 1);
    let op: ApiFilter['op'] = 'eq';
    if (raw.startsWith('~')) {
      op = 'fuzzy';
      raw = raw.slice(1);
    }
    if (!allowed.includes(key)) {
      const known = allowed.length > 0 ? `filter on ${allowed.join(', ')}` : 'no filters';
      throw new ApiError('BAD_REQUEST', `invalid query parameter: /q: unknown key "${key.slice(0, 50)}" (this operation takes ${known})`);
    }
    if (filters[key] !== undefined) throw new ApiError('BAD_REQUEST', `invalid query parameter: /q: "${key}" appears twice`);
    const value = decode(raw);
    if (op === 'eq' && RANGE_OR_LIST.test(value)) {
      throw new ApiError('BAD_REQUEST', `invalid query parameter: /q: range and list forms ("${key}=${value.slice(0, 30)}") are not supported; use key=value or key=~value`);
    }
    if (value === '') throw new ApiError('BAD_REQUEST', `invalid query parameter: /q: "${key}" needs a value`);
    filters[key] = Object.freeze({ op, value });
  }
  return filters;
}

/** `page`, `page_size`, `q` and (when `allowedSorts` is given) `sort` of a list request. */
export function parsePageRequest(query: Record<string, QueryValue>, allowedFilters: readonly string[], allowedSorts?: readonly string[]): ApiPageRequest {
  return Object.freeze({
    page: integer('page', query.page, 1, Number.MAX_SAFE_INTEGER),
    pageSize: integer('page_size', query.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
    filters: Object.freeze(parseFilters(single('q', query.q), allowedFilters)),
    sort: allowedSorts ? parseSort(single(SORT_KEY, query[SORT_KEY]), allowedSorts) : NO_SORT,
  });
}

const NO_SORT = Object.freeze([]);

/** What non-list operations see in `req.page`. */
export const NO_PAGE: ApiPageRequest = Object.freeze({ page: 1, pageSize: DEFAULT_PAGE_SIZE, filters: Object.freeze({}), sort: NO_SORT });

/**
 * The `Link` header (RFC 8288) of a page: `rel="prev"` unless on page 1, `rel="next"` while
 * items follow. Path-relative URLs that keep every other query parameter as sent.
 */
export function linkHeader(path: string, search: string, page: ApiPageRequest, total: number): string | undefined {
  const links: string[] = [];
  const at = (n: number) => {
    const params = new URLSearchParams(search);
    params.set('page', String(n));
    params.set('page_size', String(page.pageSize));
    return `${path}?${params.toString()}`;
  };
  if (page.page > 1) links.push(`<${at(page.page - 1)}>; rel="prev"`);
  if (page.page * page.pageSize < total) links.push(`<${at(page.page + 1)}>; rel="next"`);
  return links.length > 0 ? links.join(', ') : undefined;
}
