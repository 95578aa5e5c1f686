// The distribution spec's repository name grammar (as the kernel checks it).
const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPOSITORY_NAME = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const isRepositoryName = (name: string): boolean => name.length <= 255 && REPOSITORY_NAME.test(name);

/**
 * Destination repository names, with Harbor's namespace flattening (`dest_namespace` and
 * `dest_namespace_replace_count`, see goharbor/harbor src/controller/replication/flow/stage.go
 * `replaceNamespace`). Given `a/b/c/img` and namespace `ns`:
 *
 * | flatten | result          | replace count |
 * |---------|-----------------|---------------|
 * | 'none'  | ns/a/b/c/img    | 0             |
 * | 1       | ns/b/c/img      | 1 (UI default)|
 * | 2       | ns/c/img        | 2             |
 * | 3       | ns/img          | 3             |
 * | 'all'   | ns/img          | -1 (legacy)   |
 *
 * The last path component is always kept. Asking to remove more levels than the source has is an
 * error, as in Harbor (`a/img` with 2). Without a namespace Harbor keeps the source name as is,
 * whatever the flattening: its docs say resources keep their source namespace, and the code
 * returns early (goharbor/harbor#19319 asks to change that; we follow what Harbor ships).
 */

/** How many leading path levels the destination namespace replaces. */
export type Flatten = 'none' | 1 | 2 | 3 | 'all';

/** What some registries accept (Harbor's adapters declare it): Docker Hub wants exactly `ns/name`. */
export type PathComponents = 'any' | 'onlyTwo' | 'atLeastTwo';

export interface DestinationOptions {
  /** Destination namespace; may itself contain `/`. Empty or absent keeps the source name. */
  readonly namespace?: string | undefined;
  readonly flatten: Flatten;
  /** Shape the destination registry requires; `any` when absent. */
  readonly pathComponents?: PathComponents | undefined;
}

/** A policy that cannot name its destination for this repository (bad input, not a transient failure). */
export class DestinationNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationNameError';
  }
}

/** Maps Harbor's `dest_namespace_replace_count` (-1, 0..3) to {@link Flatten}. */
export function flattenFromReplaceCount(count: number): Flatten {
  if (count === -1) return 'all';
  if (count === 0) return 'none';
  if (count === 1 || count === 2 || count === 3) return count;
  throw new DestinationNameError(`unsupported flattening level ${String(count)} (expected -1, 0, 1, 2 or 3)`);
}

/** Maps {@link Flatten} back to Harbor's `dest_namespace_replace_count`. */
export function flattenToReplaceCount(flatten: Flatten): number {
  return flatten === 'all' ? -1 : flatten === 'none' ? 0 : flatten;
}

/** Names the destination repository of `source`; throws {@link DestinationNameError} when it cannot. */
export function destinationRepository(source: string, options: DestinationOptions): string {
  const { flatten, pathComponents = 'any' } = options;
  // Checked at runtime too: policies are read from JSON.
  if (flatten !== 'none' && flatten !== 'all' && flatten !== 1 && flatten !== 2 && flatten !== 3) {
    throw new DestinationNameError(`unsupported flattening ${JSON.stringify(flatten)} (expected 'none', 1, 2, 3 or 'all')`);
  }
  // The source is not held to our grammar (a remote catalog may differ); the result is.
  if (source === '') throw new DestinationNameError('empty source repository name');
  // Harbor's path.Join drops a stray leading or trailing slash of the namespace.
  const namespace = (options.namespace ?? '').replace(/^\/+|\/+$/g, '');

  let result: string;
  if (namespace === '') {
    result = source;
  } else {
    const parts = source.split('/');
    const name = parts.pop() as string; // split always yields at least one element
    const levels = flattenToReplaceCount(flatten);
    if (levels > parts.length) {
      throw new DestinationNameError(
        `cannot flatten ${levels} level(s) of ${quote(source)}: it has only ${parts.length} level(s) before the image name`,
      );
    }
    const kept = levels < 0 ? [] : parts.slice(levels);
    result = [namespace, ...kept, name].join('/');
  }

  if (!isRepositoryName(result)) {
    throw new DestinationNameError(`destination ${quote(result)} is not a valid repository name (check the destination namespace)`);
  }
  const count = result.split('/').length;
  if (pathComponents === 'onlyTwo' && count !== 2) {
    throw new DestinationNameError(`destination ${quote(result)} has ${count} path components; the destination registry only supports 2`);
  }
  if (pathComponents === 'atLeastTwo' && count < 2) {
    throw new DestinationNameError(`destination ${quote(result)} has ${count} path component; the destination registry requires at least 2`);
  }
  return result;
}

// Names come from remote catalogs: cap what ends up in a message.
function quote(value: string): string {
  return JSON.stringify(value.length > 300 ? `${value.slice(0, 300)}…` : value);
}
