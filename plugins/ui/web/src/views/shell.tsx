import type { ComponentChildren } from 'preact';
import { LOCALES, getLocale, setLocale, t, type Locale } from '../i18n/index.js';
import { extensionKey, extensionLabel, offered, useExtensions } from '../extensions.js';
import { NAV_ITEMS } from '../routes.js';
import { onLinkClick, useLocation } from '../router.js';
import { useSession } from '../session-context.js';
import { SearchBox } from './search/search-box.js';
import { applyTheme, getTheme, type Theme } from '../theme.js';

/** The frame of every screen after login: header (language, theme, user), navigation, content. */
export function Shell({ children }: { children: ComponentChildren }) {
  const { user, logout } = useSession();
  const loc = useLocation();
  const pages = useExtensions('navigation').filter((e) => offered(e, user));
  return (
    <div class="shell" onClick={onLinkClick}>
      <a class="skip" href="#main">
        {t('app.skip')}
      </a>
      <header class="top">
        <a class="brand" href="/">
          {t('app.name')}
        </a>
        <SearchBox />
        <div class="prefs">
          <label>
            <span>{t('prefs.language')}</span>
            <select value={getLocale()} onChange={(e) => setLocale(e.currentTarget.value as Locale)}>
              {Object.entries(LOCALES).map(([id, l]) => (
                <option value={id} lang={id}>
                  {l.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>{t('prefs.theme')}</span>
            <select value={getTheme()} onChange={(e) => applyTheme(e.currentTarget.value as Theme)}>
              <option value="system">{t('theme.system')}</option>
              <option value="light">{t('theme.light')}</option>
              <option value="dark">{t('theme.dark')}</option>
            </select>
          </label>
          <span class="user" title={user.admin ? t('user.admin') : undefined}>
            {t('user.menu', { name: user.displayName ?? user.name })}
          </span>
          <a href="/account" aria-current={loc.path === '/account' ? 'page' : undefined}>
            {t('user.account')}
          </a>
          <button type="button" onClick={() => void logout()}>
            {t('user.logout')}
          </button>
        </div>
      </header>
      <nav class="side" aria-label={t('nav.main')}>
        <ul>
          {NAV_ITEMS.filter((item) => item.visible(user)).map((item) => (
            <li>
              <a href={item.path} aria-current={loc.path === item.path || loc.path.startsWith(item.path + '/') ? 'page' : undefined}>
                {t(item.label)}
              </a>
            </li>
          ))}
          {pages.map((e) => {
            const path = `/plugins/${encodeURIComponent(e.plugin)}/${encodeURIComponent(e.id)}`;
            return (
              <li key={extensionKey(e)}>
                <a href={path} aria-current={loc.path === path ? 'page' : undefined}>
                  {extensionLabel(e)}
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
