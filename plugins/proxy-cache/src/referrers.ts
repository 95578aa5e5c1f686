import type { ContentDescriptor, ManifestPreparation, ReferrersRequest } from '@wharf/sdk';
import { classify, staleWarning, withTimeout, type UpstreamFailure } from './failures.js';
import { fetchManifest, storeManifest } from './manifests.js';
import { Flights, proxiedRepository, worstFailure, type ProxyDeps } from './proxy.js';

/**
 * The referrers of a proxy-cache project (`registry.prepareReferrers`): the first upstream that
 * answers lists them (the referrers API or its tag-schema fallback, through the adapter), and the
 * manifests the cache lacks are fetched by digest and stored (their `subject` puts them in the
 * kernel's referrers index). When no upstream answers, the cache's own list is served with a
 * `Warning`; an upstream without referrers support is no failure (its list is empty).
 */
export function createReferrersProxy(deps: ProxyDeps): (request: ReferrersRequest) => Promise<ManifestPreparation | undefined> {
  const flights = new Flights<ManifestPreparation>();
  return async (request) => {
    const proxied = await proxiedRepository(deps, request.repository);
    if (!proxied) return undefined;
    const { repository, subject } = request;
    return flights.run(`${repository}@${subject}`, async () => {
      const failures: UpstreamFailure[] = [...proxied.unusable];
      for (const upstream of proxied.upstreams) {
        let listed: ContentDescriptor[] | undefined;
        try {
          listed = await withTimeout(deps.timeoutSeconds, upstream.target.listReferrers(upstream.repositoryFor(proxied.path), subject));
        } catch (err) {
          const failure = classify(upstream.name, err);
          if (failure.kind !== 'not-found') failures.push(failure);
          continue;
        }
        for (const descriptor of listed ?? []) {
          if (await deps.artifacts.getManifest(repository, descriptor.digest)) continue;
          const remote = await fetchManifest(deps, upstream, proxied.path, descriptor.digest, failures);
          if (remote) await storeManifest(deps, repository, descriptor.digest, remote);
        }
        return {};
      }
      if (failures.length === 0) return {};
      const failure = worstFailure(failures, `${proxied.path} referrers of ${subject}`, proxied.primary);
      deps.logger.warn({ repository, subject, upstream: failure.upstream, answer: failure.answer }, 'proxy-cache serving cached referrers');
      return { headers: { Warning: staleWarning(failure) } };
    });
  };
}
