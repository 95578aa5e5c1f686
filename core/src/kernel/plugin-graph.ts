import { KernelError } from '@wharf/sdk';

/**
 * Orders plugins for registration: config order, except that a plugin comes after every plugin
 * it `dependsOn`. Ids must be unique per kind; dependencies must be present and acyclic.
 */

export interface GraphNode {
  readonly id: string;
  readonly kind: string;
  readonly configPath: string;
  readonly dependsOn?: readonly string[] | undefined;
}

export function checkUniqueIds<T extends GraphNode>(nodes: readonly T[]): void {
  const seen = new Map<string, T>();
  for (const n of nodes) {
    const key = `${n.kind}/${n.id}`;
    const prior = seen.get(key);
    if (prior) {
      throw new KernelError(
        'REG_ERR_PLUGIN_DUPLICATE',
        `${n.kind} plugin "${n.id}" is configured twice: at ${prior.configPath} and at ${n.configPath}`,
        { plugin: n.id },
      );
    }
    seen.set(key, n);
  }
}

/** Stable topological sort (Kahn, always taking the earliest ready node in config order). */
export function orderPlugins<T extends GraphNode>(nodes: readonly T[]): T[] {
  checkUniqueIds(nodes);
  const byId = new Map<string, T[]>();
  for (const n of nodes) byId.set(n.id, [...(byId.get(n.id) ?? []), n]);
  const deps = new Map<T, T[]>();
  for (const n of nodes) {
    const list: T[] = [];
    for (const dep of n.dependsOn ?? []) {
      const found = byId.get(dep);
      if (!found || found.length === 0) {
        throw new KernelError(
          'REG_ERR_PLUGIN_DEPENDENCY',
          `plugin "${n.id}" (${n.configPath}) depends on plugin "${dep}", which is not configured`,
          { plugin: n.id },
        );
      }
      list.push(...found.filter((f) => f !== n));
    }
    deps.set(n, list);
  }
  const done = new Set<T>();
  const out: T[] = [];
  while (out.length < nodes.length) {
    const next = nodes.find((n) => !done.has(n) && (deps.get(n) ?? []).every((d) => done.has(d)));
    if (!next) {
      const stuck = nodes.filter((n) => !done.has(n));
      throw new KernelError('REG_ERR_PLUGIN_DEPENDENCY', `plugin dependency cycle: ${describeCycle(stuck, deps)}`, {
        plugin: stuck[0]?.id,
      });
    }
    done.add(next);
    out.push(next);
  }
  return out;
}

function describeCycle<T extends GraphNode>(stuck: readonly T[], deps: Map<T, T[]>): string {
  // Walk dependencies from the first stuck node until a node repeats: that loop is the cycle.
  const path: T[] = [];
  let cur: T | undefined = stuck[0];
  while (cur && !path.includes(cur)) {
    path.push(cur);
    cur = (deps.get(cur) ?? []).find((d) => stuck.includes(d));
  }
  const loop = cur ? [...path.slice(path.indexOf(cur)), cur] : path;
  return loop.map((n) => n.id).join(' -> ');
}
