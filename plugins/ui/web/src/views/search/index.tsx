import { useDebouncedInput } from '../../components/debounce.js';
import { useLoad } from '../../components/load.js';
import { Empty, Loaded } from '../../components/states.js';
import { t } from '../../i18n/index.js';
import { navigate, useLocation, withQuery } from '../../router.js';
import { groupsOf, searchRegistry } from './results.js';

const PAGE_LIMIT = 50;

/** `/search?q=`: every kind's results (up to 50 each) for a query, the query in the URL. */
export function SearchView() {
  const loc = useLocation();
  const q = (loc.query.get('q') ?? '').trim();
  const [text, setText] = useDebouncedInput(q, (v) => navigate(withQuery(loc, { q: v.trim() }), { replace: true }));
  const [load, reload] = useLoad(q, async () => (q ? groupsOf(await searchRegistry(q, PAGE_LIMIT)) : []));
  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">{q ? t('search.titleFor', { q }) : t('search.title')}</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>{t('search.label')}</span>
          <input type="search" value={text} placeholder={t('search.placeholder')} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
      </form>
      {!q ? (
        <Empty>{t('search.hint')}</Empty>
      ) : (
        <Loaded
          load={load}
          retry={reload}
          done={(groups) =>
            groups.length === 0 ? (
              <Empty>{t('search.none', { q })}</Empty>
            ) : (
              <>
                {groups.map((g) => (
                  <section aria-labelledby={`results-${g.kind}`} key={g.kind} class="result-group">
                    <h2 id={`results-${g.kind}`}>
                      {t(g.label)} <small>({g.hits.length})</small>
                    </h2>
                    <ul>
                      {g.hits.map((h) => (
                        <li key={h.id}>
                          <a href={h.href}>{h.text}</a>
                          {h.detail && <small> {h.detail}</small>}
                        </li>
                      ))}
                    </ul>
                  </section>
                ))}
              </>
            )
          }
        />
      )}
    </section>
  );
}
