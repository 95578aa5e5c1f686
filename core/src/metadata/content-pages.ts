import type { ContentPage, ContentPageRequest } from '@wharf/sdk';

/** Keyset paging for the content listings (`coreServices.artifacts`, `coreServices.blobs`). */

export const DEFAULT_CONTENT_PAGE = 100;
export const MAX_CONTENT_PAGE = 1000;

/** The page size a request asks for: default 100; a number outside 1..1000 is a caller's bug. */
export function contentLimit(page: ContentPageRequest | undefined): number {
  const limit = page?.limit ?? DEFAULT_CONTENT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CONTENT_PAGE) {
    throw new RangeError(`page limit must be an integer from 1 to ${MAX_CONTENT_PAGE}, got ${String(limit)}`);
  }
  return limit;
}

/**
 * A page from rows fetched with `limit + 1`: the extra row only says that more follow, and the
 * cursor is the key of the last row returned.
 */
export function pageOf<R, T>(rows: readonly R[], limit: number, key: (row: R) => string, map: (rows: readonly R[]) => T[]): ContentPage<T> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return { items: map(kept), next: rows.length > limit && last !== undefined ? key(last) : undefined };
}
