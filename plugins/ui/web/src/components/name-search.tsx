import type { ComponentChildren } from 'preact';
import { navigate, useLocation, withQuery } from '../router.js';
import { useDebouncedInput } from './debounce.js';

/**
 * A list's search box: its text is `?name=` in the URL, so a search can be linked and survives
 * a reload. Typing replaces the history entry and goes back to page 1. `children` adds filters.
 */
export function NameSearch({ label, placeholder, children }: { label: string; placeholder: string; children?: ComponentChildren }) {
  const loc = useLocation();
  const [search, setSearch] = useDebouncedInput(loc.query.get('name') ?? '', (v) => navigate(withQuery(loc, { name: v, page: undefined }), { replace: true }));
  return (
    <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
      <label>
        <span>{label}</span>
        <input type="search" value={search} placeholder={placeholder} onInput={(e) => setSearch(e.currentTarget.value)} />
      </label>
      {children}
    </form>
  );
}

