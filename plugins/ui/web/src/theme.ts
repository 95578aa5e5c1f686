/** Light, dark or the system's choice (the default); remembered in localStorage. */
export type Theme = 'system' | 'light' | 'dark';
const KEY = 'wharf.theme';

export function getTheme(): Theme {
  const saved = localStorage.getItem(KEY);
  return saved === 'light' || saved === 'dark' ? saved : 'system';
}

/** Sets `data-theme` on <html>; the stylesheet follows `prefers-color-scheme` when it is absent. */
export function applyTheme(theme: Theme): void {
  if (theme === 'system') {
    localStorage.removeItem(KEY);
    delete document.documentElement.dataset.theme;
  } else {
    localStorage.setItem(KEY, theme);
    document.documentElement.dataset.theme = theme;
  }
}
