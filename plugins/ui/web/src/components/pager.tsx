import { t, formatNumber } from '../i18n/index.js';
import { useLocation, withQuery } from '../router.js';

/** Previous/next links that change `page` in the URL; the server does the paging. */
export function Pager({ page, pageSize, total }: { page: number; pageSize: number; total: number }) {
  const loc = useLocation();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (total <= pageSize && page === 1) return null;
  return (
    <nav class="pager" aria-label={t('pager.label')}>
      {page > 1 ? <a href={withQuery(loc, { page: page - 1 === 1 ? undefined : page - 1 })}>{t('pager.previous')}</a> : <span aria-disabled="true">{t('pager.previous')}</span>}
      <span>{t('pager.status', { page: formatNumber(page), pages: formatNumber(pages), total: formatNumber(total) })}</span>
      {page < pages ? <a href={withQuery(loc, { page: page + 1 })}>{t('pager.next')}</a> : <span aria-disabled="true">{t('pager.next')}</span>}
    </nav>
  );
}
