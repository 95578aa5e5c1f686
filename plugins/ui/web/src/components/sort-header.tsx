import { t } from '../i18n/index.js';
import { useLocation, withQuery, type Location } from '../router.js';

/**
 * Server-side sorting of a paged list, in the URL: `?sort=name` or `?sort=-name` (the API's
 * `sort=` convention). The server orders the whole list, so page 2 continues page 1; the
 * screen never re-sorts the rows of a page.
 */

export interface ListSort {
  /** The column the list is sorted by (the URL's, else the default), if any. */
  readonly column: string | undefined;
  readonly descending: boolean;
  /** What to send as the API's `sort` (undefined: the server's default order). */
  readonly param: string | undefined;
}

/**
 * The list's order from the URL: its `sort` when it names one of `columns` (others, e.g. from
 * an edited address, are dropped rather than sent for a 400); else `fallback`, the server's
 * default order, shown on its column but not sent.
 */
export function listSort(loc: Location, columns: readonly string[], fallback?: string): ListSort {
  const raw = loc.query.get('sort') ?? '';
  const descending = raw.startsWith('-');
  const column = descending ? raw.slice(1) : raw;
  if (columns.includes(column)) return { column, descending, param: raw };
  if (fallback === undefined) return { column: undefined, descending: false, param: undefined };
  return { column: fallback.replace(/^-/, ''), descending: fallback.startsWith('-'), param: undefined };
}

/**
 * A sortable column header: a link that sets `sort` in the URL (ascending first, then
 * descending) and goes back to page 1; `aria-sort` says how the list is sorted now.
 */
export function SortHeader({ column, label, sort }: { column: string; label: string; sort: ListSort }) {
  const loc = useLocation();
  const active = sort.column === column;
  const next = active && !sort.descending ? `-${column}` : column;
  return (
    <th scope="col" aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <a class="sort" href={withQuery(loc, { sort: next, page: undefined })} aria-label={t('list.sortBy', { column: label })}>
        {label}
        <span aria-hidden="true">{active ? (sort.descending ? ' ▼' : ' ▲') : ' ↕'}</span>
      </a>
    </th>
  );
}
