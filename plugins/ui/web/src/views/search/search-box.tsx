import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../../i18n/index.js';
import { navigate } from '../../router.js';
import { groupsOf, searchRegistry, type HitGroup } from './results.js';

const QUICK_LIMIT = 5;

/** Whether a key press went to something the user types into (then "/" is just a character). */
function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

/**
 * The header's search: "/" or Ctrl/Cmd+K focuses it; results come grouped by kind (projects,
 * repositories, tags, digests) in a listbox under it. Arrow keys move through every hit across
 * the groups, Enter opens the highlighted one (or, with none highlighted, the results page
 * `/search?q=`), Escape closes. The WAI-ARIA combobox pattern, so screen readers follow along.
 */
export function SearchBox() {
  const input = useRef<HTMLInputElement>(null);
  const [text, setText] = useState('');
  const [groups, setGroups] = useState<HitGroup[] | undefined>();
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [failed, setFailed] = useState(false);
  const round = useRef(0);
  // Closing on blur waits a moment (a click on a hit lands first); focusing again cancels it.
  const closing = useRef<ReturnType<typeof setTimeout> | undefined>();

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = e.key.toLowerCase();
      if ((k === 'k' && (e.ctrlKey || e.metaKey)) || (e.key === '/' && !typing(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey)) {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    const q = text.trim();
    setActive(-1);
    if (q === '') {
      setGroups(undefined);
      return;
    }
    const mine = ++round.current;
    const timer = setTimeout(() => {
      searchRegistry(q, QUICK_LIMIT).then(
        (r) => {
          if (mine !== round.current) return; // a later query's answer wins
          setFailed(false);
          setGroups(groupsOf(r));
        },
        () => mine === round.current && setFailed(true),
      );
    }, 200);
    return () => clearTimeout(timer);
  }, [text]);

  const hits = (groups ?? []).flatMap((g) => g.hits);
  const showing = open && text.trim() !== '';
  const go = (href: string) => {
    setOpen(false);
    setText('');
    input.current?.blur();
    navigate(href);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setOpen(true);
      if (hits.length === 0) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setActive((a) => (a === -1 ? (step > 0 ? 0 : hits.length - 1) : (a + step + hits.length) % hits.length));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const hit = hits[active];
      if (hit) go(hit.href);
      else if (text.trim()) go(`/search?q=${encodeURIComponent(text.trim())}`);
    } else if (e.key === 'Escape') {
      if (showing) {
        e.preventDefault();
        setOpen(false);
      } else input.current?.blur();
    }
  };
  let index = -1;
  return (
    <div class="searchbox" role="search">
      <label for="registry-search" class="visually-hidden">
        {t('search.label')}
      </label>
      <input
        ref={input}
        id="registry-search"
        type="search"
        role="combobox"
        autocomplete="off"
        aria-expanded={showing}
        aria-controls="registry-search-results"
        aria-autocomplete="list"
        aria-activedescendant={active >= 0 && showing ? `hit-${active}` : undefined}
        aria-keyshortcuts="/ Control+K Meta+K"
        placeholder={t('search.placeholder')}
        value={text}
        onInput={(e) => {
          setText(e.currentTarget.value);
          setOpen(true);
        }}
        onFocus={() => {
          clearTimeout(closing.current);
          setOpen(true);
        }}
        onBlur={() => {
          closing.current = setTimeout(() => setOpen(false), 150);
        }}
        onKeyDown={onKeyDown}
      />
      <kbd class="shortcut" aria-hidden="true">
        /
      </kbd>
      <div class="search-popup" hidden={!showing}>
        {showing && groups === undefined && !failed && (
          <p class="muted" role="status">
            {t('state.loading')}
          </p>
        )}
        {showing && failed && (
          <p class="muted" role="alert">
            {t('search.failed')}
          </p>
        )}
        {showing && groups?.length === 0 && (
          <p class="muted" role="status">
            {t('search.none', { q: text.trim() })}
          </p>
        )}
        <div id="registry-search-results" role="listbox" aria-label={t('search.results')} hidden={!showing || !groups || groups.length === 0}>
          {showing &&
            groups?.map((g) => (
              <div role="group" aria-label={t(g.label)} key={g.kind}>
                <div aria-hidden="true" class="group-label">
                  {t(g.label)}
                </div>
                {g.hits.map((h) => {
                  index++;
                  const i = index;
                  return (
                    <div
                      role="option"
                      id={`hit-${i}`}
                      key={h.id}
                      aria-selected={i === active}
                      class={i === active ? 'hit active' : 'hit'}
                      onMouseDown={(e) => {
                        e.preventDefault();
                        go(h.href);
                      }}
                    >
                      {h.text}
                      {h.detail && <small> {h.detail}</small>}
                    </div>
                  );
                })}
              </div>
            ))}
        </div>
        {showing && text.trim() && (
          <p class="all">
            <a
              href={`/search?q=${encodeURIComponent(text.trim())}`}
              tabIndex={-1}
              onMouseDown={(e) => {
                e.preventDefault();
                go(`/search?q=${encodeURIComponent(text.trim())}`);
              }}
            >
              {t('search.all', { q: text.trim() })}
            </a>
          </p>
        )}
      </div>
    </div>
  );
}
