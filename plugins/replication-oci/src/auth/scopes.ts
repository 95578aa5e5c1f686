/**
 * Token scopes of the Docker token spec: `repository:team/app:pull,push`, `registry:catalog:*`.
 * Kept as resource → action set, so the scopes an operation needs and those a challenge names
 * can be merged into one token request.
 */

export interface Scope {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

export const pull = (repository: string): Scope => ({ type: 'repository', name: repository, actions: ['pull'] });
export const push = (repository: string): Scope => ({ type: 'repository', name: repository, actions: ['pull', 'push'] });
export const remove = (repository: string): Scope => ({ type: 'repository', name: repository, actions: ['delete'] });
export const catalog: Scope = { type: 'registry', name: 'catalog', actions: ['*'] };

/** Parses a challenge's `scope` parameter: space-separated scopes; a name may hold `:` (a host:port). */
export function parseScopes(value: string | undefined): Scope[] {
  if (!value) return [];
  const out: Scope[] = [];
  for (const part of value.split(' ')) {
    const first = part.indexOf(':');
    const last = part.lastIndexOf(':');
    if (first <= 0 || last <= first) continue;
    const actions = part.slice(last + 1).split(',').filter(Boolean);
    if (actions.length > 0) out.push({ type: part.slice(0, first), name: part.slice(first + 1, last), actions });
  }
  return out;
}

/** Merges scopes by resource, actions deduplicated; sorted, so equal sets give equal strings. */
export function mergeScopes(...lists: ReadonlyArray<readonly Scope[]>): Scope[] {
  const byResource = new Map<string, { type: string; name: string; actions: Set<string> }>();
  for (const scope of lists.flat()) {
    const key = `${scope.type}:${scope.name}`;
    const entry = byResource.get(key) ?? { type: scope.type, name: scope.name, actions: new Set<string>() };
    for (const action of scope.actions) entry.actions.add(action);
    byResource.set(key, entry);
  }
  return [...byResource.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, e]) => ({ type: e.type, name: e.name, actions: [...e.actions].sort() }));
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}

/** The cache key of a set of scopes. */
export function scopeKey(scopes: readonly Scope[]): string {
  return mergeScopes(scopes).map(formatScope).join(' ');
}
