import { RegistryError } from '@wharf/sdk';
import type { PageRequest } from '../../../metadata/types.js';
import { parseDecimal } from '../../integers.js';
import type { V2Context } from './context.js';

/** Upper bound of one page, so a huge repository can't be listed in one response. */
export const MAX_PAGE = 10_000;

/** Reads `n` and `last` from the query. Without `n`, a page is {@link MAX_PAGE} long. */
export function pageOf(ctx: V2Context): PageRequest {
  const rawN = ctx.query.n;
  const rawLast = ctx.query.last;
  if (Array.isArray(rawN) || Array.isArray(rawLast)) throw new RegistryError('UNSUPPORTED', 'n and last may be given once', { status: 400 });
  let n = MAX_PAGE;
  if (rawN !== undefined && rawN !== '') {
    const parsed = parseDecimal(rawN);
    if (parsed === undefined) throw new RegistryError('UNSUPPORTED', 'n must be a non-negative decimal integer', { status: 400 });
    n = Math.min(parsed, MAX_PAGE);
  }
  return { n, last: rawLast === '' ? undefined : rawLast };
}

/**
 * Sends one page: asks the store for n+1 names to learn whether more follow, and if so adds
 * `Link: <path?n=&last=>; rel="next"` as the spec describes.
 */
export async function sendPage(
  ctx: V2Context,
  page: PageRequest,
  fetch: (page: PageRequest) => Promise<string[] | undefined>,
  render: (names: string[]) => unknown,
): Promise<boolean> {
  const names = await fetch({ n: page.n + 1, last: page.last });
  if (names === undefined) return false;
  const more = page.n > 0 && names.length > page.n;
  const shown = names.slice(0, page.n);
  const lastShown = shown[shown.length - 1];
  if (more && lastShown !== undefined) {
    ctx.set('Link', `<${ctx.path}?n=${page.n}&last=${encodeURIComponent(lastShown)}>; rel="next"`);
  }
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = render(shown);
  return true;
}
