import { en, MESSAGES, type MessageKey } from './messages.js';

/** The UI's languages. The choice is remembered in localStorage (a preference, not a secret). */
export const LOCALES = { en: { label: 'English', messages: MESSAGES.en }, 'zh-CN': { label: '简体中文', messages: MESSAGES['zh-CN'] } } as const;
export type Locale = keyof typeof LOCALES;
const STORAGE_KEY = 'wharf.locale';

function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && saved in LOCALES) return saved as Locale;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

let current: Locale = initialLocale();
const listeners = new Set<() => void>();

export const getLocale = (): Locale => current;
export function setLocale(locale: Locale): void {
  current = locale;
  localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
  for (const l of listeners) l();
}
export function onLocaleChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
document.documentElement.lang = current;

/** The message `key` in the current language, `{name}` placeholders filled from `params`. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = LOCALES[current].messages[key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** A date and time in the current language's format. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return t('repo.never');
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;
/** Bytes in binary steps (1 KB = 1024 B), with the current language's number and unit format. */
export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return new Intl.NumberFormat(current, { style: 'unit', unit: UNITS[unit], unitDisplay: 'short', maximumFractionDigits: unit === 0 ? 0 : 1 }).format(value);
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(current).format(n);
}

export type { MessageKey };
