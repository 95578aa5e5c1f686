import { catalog, pull } from './auth/scopes.js';
import { protocolError } from './client/errors.js';
import { headerOf, type Operation, type RegistryClient } from './client/http.js';
import { checkRepository } from './names.js';

/** `_catalog` and `tags/list`, page by page through `Link: <...>; rel="next"`. */

const PAGE = 100;
const MAX_LISTING_BYTES = 16 * 1024 * 1024;

/** The `rel="next"` target of a Link header, resolved against the page's URL. */
export function nextLink(header: string | undefined, current: URL): URL | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/i.test(m[2] ?? '')) return new URL(m[1] ?? '', current);
  }
  return undefined;
}

async function* pages(client: RegistryClient, op: Operation, first: string, field: 'repositories' | 'tags'): AsyncGenerator<string[] | 'absent'> {
  let url: URL | undefined = client.resolve(first);
  const seen = new Set<string>();
  while (url) {
    // A registry that loops its links would keep us here forever.
    if (seen.has(url.href)) throw protocolError(client.ctx(op.name), 'the registry sent the same page link twice', 'REMOTE_ERROR');
    seen.add(url.href);
    const answer = await client.send(op, { method: 'GET', url, headers: { accept: 'application/json' } });
    if (answer.status === 404 && field === 'tags') {
      const error = await client.errorOf(op, answer);
      if ((error as { details?: { ociCode?: string } }).details?.ociCode === 'NAME_UNKNOWN') {
        yield 'absent';
        return;
      }
      throw error;
    }
    if (answer.status !== 200) throw await client.errorOf(op, answer);
    const body = await client.readAll(op, answer, MAX_LISTING_BYTES);
    let list: unknown;
    try {
      list = (JSON.parse(body.toString('utf8')) as Record<string, unknown>)[field];
    } catch {
      throw protocolError(client.ctx(op.name), 'the listing is not JSON');
    }
    // distribution answers `"tags": null` for a repository whose tags were all deleted.
    const names = Array.isArray(list) ? list.filter((n): n is string => typeof n === 'string') : [];
    yield names;
    url = names.length > 0 ? nextLink(headerOf(answer, 'link'), answer.url) : undefined;
  }
}

export async function* listRepositories(client: RegistryClient): AsyncGenerator<string> {
  const op: Operation = { name: 'listRepositories', scopes: [catalog] };
  for await (const page of pages(client, op, `/v2/_catalog?n=${PAGE}`, 'repositories')) {
    if (page !== 'absent') yield* page;
  }
}

export async function listTags(client: RegistryClient, repository: string): Promise<string[]> {
  const op: Operation = { name: `listTags ${repository}`, scopes: [pull(repository)] };
  const tags: string[] = [];
  for await (const page of pages(client, op, `/v2/${checkRepository(repository)}/tags/list?n=${PAGE}`, 'tags')) {
    if (page === 'absent') return [];
    tags.push(...page);
  }
  return tags;
}
