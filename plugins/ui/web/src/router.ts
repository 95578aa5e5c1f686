import { useEffect, useState } from 'preact/hooks';

/**
 * A small history router. Every screen's state (page, filters, tab) is in the URL's query, so a
 * link or a reload shows the same list. Routes are a table (routes.tsx): later screens (members,
 * robots, administration, plugin pages) add rows, not code here.
 */

export interface Location {
  readonly path: string;
  readonly query: URLSearchParams;
}

const listeners = new Set<() => void>();
const read = (): Location => ({ path: window.location.pathname, query: new URLSearchParams(window.location.search) });
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  listeners.forEach((l) => l());
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const update = () => setLoc(read());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return loc;
}

/** The path with some query parameters changed (`undefined` or '' removes one). */
export function withQuery(loc: Location, changes: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams(loc.query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${loc.path}?${s}` : loc.path;
}

/** A positive integer query parameter, else `fallback`. */
export function intParam(loc: Location, name: string, fallback = 1): number {
  const n = Number(loc.query.get(name));
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Client-side navigation for plain links (keeps modifier-clicks opening new tabs). */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as HTMLElement).closest('a');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || a.target) return;
  e.preventDefault();
  navigate(href);
}
