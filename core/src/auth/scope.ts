import type { AccessRequest } from '@wharf/sdk';

/**
 * The Docker token spec's scope grammar: `type[(class)]:name:action[,action]`, several scopes
 * separated by spaces (or repeated `scope` parameters). The name may itself contain a colon
 * (`localhost:5000/app`), so the type ends at the first colon and the actions start after the
 * last one. The class (`repository(plugin)`) is deprecated and ignored.
 */

/** One resource and the actions on it: a requested scope, or an entry of a token's `access` claim. */
export interface ResourceScope {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

const TYPE = /^([a-z0-9]+)(?:\([a-z0-9]+\))?$/;
const ACTION = /^[a-z*]+$/;
/** A sane cap: one scope names one resource, and a name is at most 255 characters. */
const MAX_SCOPE_LENGTH = 512;

/** Parses one scope; `undefined` when it does not follow the grammar. Unknown types still parse. */
export function parseScope(value: string): ResourceScope | undefined {
  if (value.length === 0 || value.length > MAX_SCOPE_LENGTH) return undefined;
  const first = value.indexOf(':');
  const last = value.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = TYPE.exec(value.slice(0, first))?.[1];
  const name = value.slice(first + 1, last);
  if (type === undefined || name.length === 0) return undefined;
  const actions = value
    .slice(last + 1)
    .split(',')
    .filter((a) => a.length > 0);
  if (actions.some((a) => !ACTION.test(a))) return undefined;
  return { type, name, actions: unique(actions) };
}

/**
 * Parses `scope` parameters: each value may hold several space-separated scopes. Malformed
 * scopes are dropped; scopes naming the same resource are merged (union of their actions).
 */
export function parseScopes(values: readonly string[]): ResourceScope[] {
  const parsed: ResourceScope[] = [];
  for (const value of values) {
    for (const part of value.split(/\s+/)) {
      const scope = part ? parseScope(part) : undefined;
      if (scope) parsed.push(scope);
    }
  }
  return mergeScopes(parsed);
}

/** Merges scopes on the same resource, keeping first-seen order of resources and actions. */
export function mergeScopes(scopes: readonly ResourceScope[]): ResourceScope[] {
  const byKey = new Map<string, { type: string; name: string; actions: string[] }>();
  for (const s of scopes) {
    const key = `${s.type}\u0000${s.name}`;
    const entry = byKey.get(key);
    if (entry) entry.actions = unique([...entry.actions, ...s.actions]);
    else byKey.set(key, { type: s.type, name: s.name, actions: unique([...s.actions]) });
  }
  return [...byKey.values()];
}

/** The scope string of a challenge or a token request: `type:name:a,b type:name:c`. */
export function formatScopes(scopes: readonly ResourceScope[]): string {
  return scopes
    .filter((s) => s.actions.length > 0)
    .map((s) => `${s.type}:${s.name}:${s.actions.join(',')}`)
    .join(' ');
}

/** The scopes a request needs, from the access questions a route asks. */
export function scopesFor(accesses: readonly AccessRequest[]): ResourceScope[] {
  return mergeScopes(accesses.map((a) => ({ type: a.resource.type, name: a.resource.name, actions: [a.action] })));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
