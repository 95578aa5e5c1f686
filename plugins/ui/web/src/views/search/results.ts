import { api, errorMessage } from '../../api/client.js';
import type { components } from '../../api/schema.js';
import { ApiFailure } from '../../components/load.js';
import type { MessageKey } from '../../i18n/index.js';
import { repositoryPath, shortDigest } from '../repository/common.js';

/**
 * The registry-wide search (`listSearchResults`) turned into what the header box and the
 * results page show: groups by kind, each hit with its link. Shared so both agree.
 */
export type SearchResults = components['schemas']['SearchResults'];

export interface Hit {
  readonly id: string;
  readonly href: string;
  readonly text: string;
  readonly detail?: string;
}

export interface HitGroup {
  readonly kind: 'projects' | 'repositories' | 'tags' | 'digests';
  readonly label: MessageKey;
  readonly hits: readonly Hit[];
}

export async function searchRegistry(q: string, limit: number): Promise<SearchResults> {
  const { data, error, response } = await api.GET('/search', { params: { query: { q, limit } } });
  if (error || !data) throw new ApiFailure(errorMessage(error), response.status);
  return data;
}

export function groupsOf(r: SearchResults): HitGroup[] {
  const groups: HitGroup[] = [
    { kind: 'projects', label: 'search.kind.projects', hits: r.projects.map((p) => ({ id: `p:${p.name}`, href: `/projects/${encodeURIComponent(p.name)}`, text: p.name })) },
    { kind: 'repositories', label: 'search.kind.repositories', hits: r.repositories.map((x) => ({ id: `r:${x.name}`, href: repositoryPath(x.name), text: x.name })) },
    {
      kind: 'tags',
      label: 'search.kind.tags',
      hits: r.tags.map((x) => ({ id: `t:${x.repository}:${x.tag}`, href: `${repositoryPath(x.repository)}?name=${encodeURIComponent(x.tag)}`, text: `${x.repository}:${x.tag}`, detail: shortDigest(x.digest) })),
    },
    {
      kind: 'digests',
      label: 'search.kind.digests',
      hits: r.digests.map((x) => ({ id: `d:${x.repository}@${x.digest}`, href: `${repositoryPath(x.repository)}?view=artifacts&digest=${encodeURIComponent(x.digest)}`, text: `${x.repository}@${shortDigest(x.digest)}`, detail: x.digest })),
    },
  ];
  return groups.filter((g) => g.hits.length > 0);
}
