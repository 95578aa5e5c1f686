import type { ComponentChildren } from 'preact';
import type { Load } from './load.js';
import { Pager } from './pager.js';
import { Empty, Loaded } from './states.js';

/** One page of a list as a screen loads it: the rows, and the whole list's size for the pager. */
export interface Paged<T> {
  readonly items: readonly T[];
  readonly total: number;
}

/**
 * A paged list as a table: loading and error states, `empty` when there are no rows, else the
 * header cells `head`, a `row` per item (a `<tr>` with its key) and the pager. `head` and `row`
 * also get the whole loaded value, for what it carries besides the rows (e.g. what the user may do).
 */
export function PagedTable<V extends Paged<unknown>>({
  load,
  retry,
  page,
  pageSize,
  empty,
  head,
  row,
}: {
  load: Load<V>;
  retry: () => void;
  page: number;
  pageSize: number;
  empty: ComponentChildren;
  head: (value: V) => ComponentChildren;
  row: (item: V['items'][number], value: V) => ComponentChildren;
}) {
  return (
    <Loaded
      load={load}
      retry={retry}
      done={(value) =>
        value.items.length === 0 ? (
          <Empty>{empty}</Empty>
        ) : (
          <>
            <table>
              <thead>
                <tr>{head(value)}</tr>
              </thead>
              <tbody>{value.items.map((item) => row(item, value))}</tbody>
            </table>
            <Pager page={page} pageSize={pageSize} total={value.total} />
          </>
        )
      }
    />
  );
}

/** The header of a row-actions column: no visible text (the buttons say what they do), a name for screen readers. */
export function ActionsHeader({ label }: { label: string }) {
  return (
    <th scope="col">
      <span class="visually-hidden">{label}</span>
    </th>
  );
}
