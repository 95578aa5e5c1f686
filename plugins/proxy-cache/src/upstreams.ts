import type { Logger, ReplicationTarget } from '@wharf/sdk';
import type { Endpoint, Replication } from '@wharf/plugin-replication';
import type { StoredUpstream } from './store.js';

/**
 * Upstream registries of proxy-cache projects: registry endpoints of the replication plugin
 * (credentials sealed there, decrypted when a target is opened), each opened once and kept.
 * A kept target keeps its adapter's token cache, so a pull asks the upstream's token service only
 * when the token for that scope has expired, never once per pull (Harbor logs in to Docker Hub
 * per pull until Hub rate-limits the login, goharbor/harbor#23750).
 */

/** An upstream ready to be asked: its endpoint's name and the opened target. */
export interface Upstream {
  readonly name: string;
  readonly target: ReplicationTarget;
  /** The upstream repository of a path below the project (`nginx` → `library/nginx`). */
  repositoryFor(path: string): string;
}

/** Docker Hub's hosts: a one-component name there means an official image, `library/<name>`. */
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'registry-1.docker.io', 'index.docker.io']);

export function isDockerHub(url: string): boolean {
  try {
    return DOCKER_HUB_HOSTS.has(new URL(url).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** `<pathPrefix><path>`, with Harbor's Docker Hub rule for one-component paths. */
export function upstreamRepository(endpointUrl: string, pathPrefix: string, path: string): string {
  const joined = `${pathPrefix}${path}`;
  if (isDockerHub(endpointUrl) && !joined.includes('/')) return `library/${joined}`;
  return joined;
}

interface Kept {
  readonly key: string;
  readonly upstream: Upstream;
  readonly at: number;
}

export class Upstreams {
  readonly #kept = new Map<number, Kept>();

  constructor(
    private readonly replication: Replication,
    private readonly logger: Logger,
    /** How long an endpoint's row is trusted before it is read again (a changed URL or secret). */
    private readonly recheckMs: number,
  ) {}

  /** The upstream of a stored entry; `undefined` when its endpoint was deleted. */
  async open(stored: StoredUpstream): Promise<Upstream | undefined> {
    const kept = this.#kept.get(stored.endpointId);
    if (kept && Date.now() - kept.at < this.recheckMs) return this.#withPrefix(kept.upstream, stored.pathPrefix);
    const endpoint = await this.replication.store.getEndpoint(stored.endpointId);
    if (!endpoint) {
      this.#forget(stored.endpointId);
      return undefined;
    }
    const key = `${endpoint.updatedAt.getTime()}|${endpoint.url}|${endpoint.type}`;
    if (kept && kept.key === key) {
      this.#kept.set(stored.endpointId, { ...kept, at: Date.now() });
      return this.#withPrefix(kept.upstream, stored.pathPrefix);
    }
    this.#forget(stored.endpointId);
    const target = await this.replication.engine.open(endpoint);
    const upstream = this.#upstreamOf(endpoint, target);
    this.#kept.set(stored.endpointId, { key, upstream, at: Date.now() });
    this.logger.debug({ endpoint: endpoint.name }, 'proxy-cache upstream opened');
    return this.#withPrefix(upstream, stored.pathPrefix);
  }

  async close(): Promise<void> {
    for (const id of [...this.#kept.keys()]) this.#forget(id);
  }

  #upstreamOf(endpoint: Endpoint, target: ReplicationTarget): Upstream {
    return { name: endpoint.name, target, repositoryFor: (path) => upstreamRepository(endpoint.url, '', path) };
  }

  #withPrefix(upstream: Upstream, pathPrefix: string): Upstream {
    if (!pathPrefix) return upstream;
    return { ...upstream, repositoryFor: (path) => upstream.repositoryFor(`${pathPrefix}${path}`) };
  }

  #forget(id: number): void {
    const kept = this.#kept.get(id);
    if (!kept) return;
    this.#kept.delete(id);
    // Requests still using it finish first: close later.
    setTimeout(() => void kept.upstream.target.close?.().catch(() => undefined), 60_000).unref();
  }
}
