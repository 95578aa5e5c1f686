import { t } from '../i18n/index.js';
import { navigate, useLocation, withQuery, type Location } from '../router.js';

/**
 * A list's order, in the URL: `?sort=name` or `?sort=-name` (the API's `sort=` convention).
 * Paged lists send it to the server, which orders the whole list, so page 2 continues page 1
 * ({@link SortHeader}); a list the screen holds whole sorts its rows itself ({@link sortRows},
 * {@link RowSortHeader}). Both read the URL with {@link listSort}.
 */

export interface ListSort {
  /** The column the list is sorted by (the URL's, else the default), if any. */
  readonly column: string | undefined;
  readonly descending: boolean;
  /** What to send as the API's `sort` (undefined: the server's default order). */
  readonly param: string | undefined;
  /** The default order (`name`, `-time`), which the URL leaves out. */
  readonly fallback: string | undefined;
}

/**
 * The list's order from the URL: its `sort` when it names one of `columns` (others, e.g. from
 * an edited address, are dropped rather than sent for a 400); else `fallback`, the default
 * order, shown on its column but not sent.
 */
export function listSort(loc: Location, columns: readonly string[], fallback?: string): ListSort {
  const raw = loc.query.get('sort') ?? '';
  const descending = raw.startsWith('-');
  const column = descending ? raw.slice(1) : raw;
  if (columns.includes(column)) return { column, descending, param: raw, fallback };
  if (fallback === undefined) return { column: undefined, descending: false, param: undefined, fallback };
  return { column: fallback.replace(/^-/, ''), descending: fallback.startsWith('-'), param: undefined, fallback };
}

/** Where a click on `column`'s header takes the sort: ascending first, then descending. */
const nextSort = (sort: ListSort, column: string) => (sort.column === column && !sort.descending ? `-${column}` : column);
const arrow = (sort: ListSort, column: string, idle: string) => (sort.column === column ? (sort.descending ? ' ▼' : ' ▲') : idle);

/**
 * A sortable column header of a server-sorted list: a link that sets `sort` in the URL and
 * goes back to page 1; `aria-sort` says how the list is sorted now.
 */
export function SortHeader({ column, label, sort }: { column: string; label: string; sort: ListSort }) {
  const loc = useLocation();
  const active = sort.column === column;
  return (
    <th scope="col" aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <a class="sort" href={withQuery(loc, { sort: nextSort(sort, column), page: undefined })} aria-label={t('list.sortBy', { column: label })}>
        {label}
        <span aria-hidden="true">{arrow(sort, column, ' ↕')}</span>
      </a>
    </th>
  );
}

/** Reads a row's value in a column, for {@link sortRows}. */
export type RowColumns<T> = Record<string, (row: T) => string | number | boolean | null | undefined>;

/**
 * The rows on screen, sorted by a column. Only for lists the screen holds whole (event
 * consumers, a page of audit entries); paged lists sort on the server.
 */
export function sortRows<T>(rows: readonly T[], sort: ListSort, columns: RowColumns<T>): T[] {
  const get = sort.column === undefined ? undefined : columns[sort.column];
  if (!get) return [...rows];
  const sorted = [...rows].sort((a, b) => {
    const x = get(a) ?? '';
    const y = get(b) ?? '';
    return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
  });
  return sort.descending ? sorted.reverse() : sorted;
}

/**
 * A column header that sorts the rows on screen (see {@link sortRows}): a button, as nothing is
 * fetched; the URL keeps the order (replacing the entry), and leaves out the default one.
 */
export function RowSortHeader({ column, label, sort }: { column: string; label: string; sort: ListSort }) {
  const loc = useLocation();
  const active = sort.column === column;
  const next = nextSort(sort, column);
  return (
    <th scope="col" aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : undefined}>
      <button type="button" class="sort" onClick={() => navigate(withQuery(loc, { sort: next === sort.fallback ? undefined : next }), { replace: true })}>
        {label}
        <span aria-hidden="true">{arrow(sort, column, '')}</span>
      </button>
    </th>
  );
}
