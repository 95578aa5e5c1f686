import type { ListSort } from './sort-header.js';

/** What a list screen searches for: `text` contained in the API's `field` (`q=field=~text`). */
export interface ListSearch {
  readonly field: string;
  readonly text: string;
}

/** The API's query for one page of a list: paging, the search (when there is text) and the sort (unless the default). */
export function listQuery(page: number, pageSize: number, sort: ListSort, search?: ListSearch): { page: number; page_size: number; q?: string; sort?: string } {
  return {
    page,
    page_size: pageSize,
    ...(search?.text ? { q: `${search.field}=~${encodeURIComponent(search.text)}` } : {}),
    ...(sort.param ? { sort: sort.param } : {}),
  };
}
