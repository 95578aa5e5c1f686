import { createHash } from 'node:crypto';
import type { ArtifactService, BlobService, ContentService, Digest, Logger, Principal } from '@wharf/sdk';
import { classify, notFound, type UpstreamFailure } from './failures.js';
import type { ProxyMetrics } from './metrics.js';
import type { ProxySettingsStore } from './store.js';
import type { Upstream, Upstreams } from './upstreams.js';

/** What the manifest and blob sides of the proxy share. */
export interface ProxyDeps {
  readonly settings: ProxySettingsStore;
  readonly upstreams: Upstreams;
  readonly artifacts: ArtifactService;
  readonly blobs: BlobService;
  readonly content: ContentService;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly timeoutSeconds: number;
}

/** Who writes cached content: gates and the audit log see the proxy cache, not the client. */
export const PROXY_PRINCIPAL: Principal = Object.freeze({
  subject: 'proxy-cache',
  kind: 'system',
  provider: 'proxy-cache',
  admin: true,
  groups: Object.freeze([]) as readonly string[],
});

export function isProxyPrincipal(principal: Principal): boolean {
  return principal.kind === 'system' && principal.provider === PROXY_PRINCIPAL.provider && principal.subject === PROXY_PRINCIPAL.subject;
}

/** `team/app/x` → project `team`, path `app/x`; a name without a project is never proxied. */
export function splitRepository(repository: string): { project: string; path: string } | undefined {
  const slash = repository.indexOf('/');
  if (slash <= 0) return undefined;
  return { project: repository.slice(0, slash), path: repository.slice(slash + 1) };
}

/** A proxied repository: its project's upstreams (opened), and what could not be opened. */
export interface ProxiedRepository {
  readonly project: string;
  readonly path: string;
  readonly upstreams: readonly Upstream[];
  /** Entries whose endpoint is gone, as failures (the pull may still be served from the cache). */
  readonly unusable: readonly UpstreamFailure[];
  /** The label of the project's first upstream, for metrics about cache hits. */
  readonly primary: string;
}

/** The proxy settings of `repository`'s project with its upstreams opened; `undefined` when it is no proxy. */
export async function proxiedRepository(deps: ProxyDeps, repository: string): Promise<ProxiedRepository | undefined> {
  const where = splitRepository(repository);
  if (!where) return undefined;
  const settings = await deps.settings.get(where.project);
  if (!settings) return undefined;
  const upstreams: Upstream[] = [];
  const unusable: UpstreamFailure[] = [];
  for (const entry of settings.upstreams) {
    try {
      const upstream = await deps.upstreams.open(entry);
      if (upstream) upstreams.push(upstream);
      else unusable.push({ upstream: `endpoint #${entry.endpointId}`, kind: 'unavailable', answer: 'endpoint deleted', message: `registry endpoint ${entry.endpointId} no longer exists` });
    } catch (err) {
      unusable.push(classify(`endpoint #${entry.endpointId}`, err));
    }
  }
  return { ...where, upstreams, unusable, primary: upstreams[0]?.name ?? unusable[0]?.upstream ?? 'none' };
}

/** The failure to report when every upstream failed: a real failure before a 404. */
export function worstFailure(failures: readonly UpstreamFailure[], what: string, fallback: string): UpstreamFailure {
  return failures.find((f) => f.kind !== 'not-found') ?? failures[0] ?? notFound(fallback, what);
}

/** Whether `payload` hashes to `digest` (sha256 or sha512). */
export function matchesDigest(payload: Buffer, digest: Digest): boolean {
  const [algorithm, hex] = digest.split(':');
  if ((algorithm !== 'sha256' && algorithm !== 'sha512') || !hex) return false;
  return createHash(algorithm).update(payload).digest('hex') === hex;
}

/**
 * One flight per key on this node: concurrent callers share the first caller's promise (ten
 * clients pulling the same new tag cause one upstream round trip, not ten).
 */
export class Flights<T> {
  readonly #running = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running) return running;
    const started = work().finally(() => this.#running.delete(key));
    this.#running.set(key, started);
    return started;
  }
}
