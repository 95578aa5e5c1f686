import { isDigest, RegistryError, type Digest, type ManifestPreparation, type ManifestRequest, type RemoteManifest } from '@wharf/sdk';
import { classify, clientError, notFound, staleWarning, withTimeout, type UpstreamFailure } from './failures.js';
import { Flights, matchesDigest, PROXY_PRINCIPAL, proxiedRepository, worstFailure, type ProxiedRepository, type ProxyDeps } from './proxy.js';
import type { Upstream } from './upstreams.js';

/**
 * The manifest side of a proxy-cache project (`registry.prepareManifest`): before the kernel
 * reads a manifest from its store, make the store hold what the upstream has now.
 *
 * - By digest: a manifest the cache holds is served without asking any upstream (a digest's
 *   content never changes); else it is fetched (an index's child, pulled on demand).
 * - By tag: the upstreams are asked in order with a HEAD (no body; Docker Hub does not count
 *   HEADs against its pull limit) for the tag's current digest. The cache's copy answers when it
 *   has that digest; else the manifest is fetched by digest, its bytes checked against the
 *   digest, and stored under the tag as ordinary content (lazy references: its blobs come when
 *   pulled). When every upstream fails (down, 429, 5xx, timeout) and the cache has the tag, it
 *   is served stale with a `Warning` header.
 */

const MANIFEST_LIMIT_NOTE = 'the upstream manifest does not match its digest';

export function createManifestProxy(deps: ProxyDeps): (request: ManifestRequest) => Promise<ManifestPreparation | undefined> {
  const flights = new Flights<ManifestPreparation>();
  return async (request) => {
    const proxied = await proxiedRepository(deps, request.repository);
    if (!proxied) return undefined;
    return flights.run(`${request.repository}@${request.reference}`, () =>
      isDigest(request.reference) ? byDigest(deps, request.repository, proxied, request.reference as Digest) : byTag(deps, request.repository, proxied, request.reference),
    );
  };
}

async function byDigest(deps: ProxyDeps, repository: string, proxied: ProxiedRepository, digest: Digest): Promise<ManifestPreparation> {
  if (await deps.artifacts.getManifest(repository, digest)) {
    deps.metrics.request(proxied.primary, 'hit');
    return {};
  }
  const failures: UpstreamFailure[] = [...proxied.unusable];
  for (const upstream of proxied.upstreams) {
    const remote = await fetchManifest(deps, upstream, proxied.path, digest, failures);
    if (!remote) continue;
    await store(deps, repository, digest, remote);
    deps.metrics.request(upstream.name, 'miss');
    return {};
  }
  const failure = worstFailure(failures, `${proxied.path}@${digest}`, proxied.primary);
  deps.metrics.request(failure.upstream, 'error');
  deps.logger.warn({ repository, digest, upstream: failure.upstream, answer: failure.answer, error: failure.message }, 'proxy-cache manifest not available');
  throw clientError(failure, 'MANIFEST_UNKNOWN', `${proxied.path}@${digest}`);
}

async function byTag(deps: ProxyDeps, repository: string, proxied: ProxiedRepository, tag: string): Promise<ManifestPreparation> {
  const cached = await deps.artifacts.resolveTag(repository, tag);
  const failures: UpstreamFailure[] = [...proxied.unusable];
  for (const upstream of proxied.upstreams) {
    const upstreamRepository = upstream.repositoryFor(proxied.path);
    let current;
    try {
      current = await withTimeout(deps.timeoutSeconds, upstream.target.headManifest(upstreamRepository, tag));
    } catch (err) {
      failures.push(classify(upstream.name, err));
      continue;
    }
    if (!current) {
      failures.push(notFound(upstream.name, `${upstreamRepository}:${tag}`));
      continue;
    }
    if (current.digest === cached) {
      deps.metrics.request(upstream.name, 'hit');
      return {};
    }
    // The cache may hold the digest already (the tag moved back, or another tag has it): retag.
    const held = await deps.artifacts.getManifest(repository, current.digest);
    if (held) {
      await store(deps, repository, tag, { digest: held.digest, mediaType: held.mediaType, size: held.size, payload: held.payload });
      deps.metrics.request(upstream.name, 'hit');
      return {};
    }
    const remote = await fetchManifest(deps, upstream, proxied.path, current.digest, failures);
    if (!remote) continue;
    await store(deps, repository, tag, remote);
    deps.metrics.request(upstream.name, 'miss');
    return {};
  }
  const failure = worstFailure(failures, `${proxied.path}:${tag}`, proxied.primary);
  if (cached && failure.kind !== 'not-found') {
    deps.metrics.request(failure.upstream, 'stale');
    deps.logger.warn({ repository, tag, digest: cached, upstream: failure.upstream, answer: failure.answer, error: failure.message }, 'proxy-cache serving a stale tag');
    return { headers: { Warning: staleWarning(failure) } };
  }
  deps.metrics.request(failure.upstream, 'error');
  deps.logger.warn({ repository, tag, upstream: failure.upstream, answer: failure.answer, error: failure.message }, 'proxy-cache tag not available');
  throw clientError(failure, 'MANIFEST_UNKNOWN', `${proxied.path}:${tag}`);
}

/** The upstream's manifest by digest, its bytes checked; `undefined` (with the failure recorded) when it cannot be had. */
async function fetchManifest(deps: ProxyDeps, upstream: Upstream, path: string, digest: Digest, failures: UpstreamFailure[]): Promise<RemoteManifest | undefined> {
  const upstreamRepository = upstream.repositoryFor(path);
  let remote: RemoteManifest | undefined;
  try {
    remote = await withTimeout(deps.timeoutSeconds, upstream.target.getManifest(upstreamRepository, digest));
  } catch (err) {
    failures.push(classify(upstream.name, err));
    return undefined;
  }
  if (!remote) {
    failures.push(notFound(upstream.name, `${upstreamRepository}@${digest}`));
    return undefined;
  }
  deps.metrics.upstreamBytes(upstream.name, remote.payload.length);
  if (remote.digest !== digest || !matchesDigest(remote.payload, digest)) {
    failures.push({ upstream: upstream.name, kind: 'unavailable', answer: 'a manifest whose bytes do not match its digest', message: `${MANIFEST_LIMIT_NOTE}: ${upstreamRepository}@${digest}` });
    return undefined;
  }
  return remote;
}

/** Stores the exact bytes as ordinary content; its blobs and children come when pulled. */
async function store(deps: ProxyDeps, repository: string, reference: string, manifest: RemoteManifest): Promise<void> {
  try {
    await deps.content.putManifest(repository, reference, { payload: manifest.payload, mediaType: manifest.mediaType }, { principal: PROXY_PRINCIPAL }, { lazyReferences: true });
  } catch (err) {
    // A gate's refusal (a quota) is the client's answer; anything else is logged and reported.
    deps.logger.warn({ repository, reference, digest: manifest.digest, err: err instanceof Error ? err.message : String(err) }, 'proxy-cache could not store a manifest');
    if (err instanceof RegistryError || (err as { name?: string }).name === 'RegistryError') throw err;
    throw new RegistryError('UNKNOWN', 'proxy cache: could not store the upstream manifest', { status: 503 });
  }
}
