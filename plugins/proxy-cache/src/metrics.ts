import { Counter, type Registry } from 'prom-client';

/** What a proxied request came to: served from the cache, fetched upstream, stale, or failed. */
export type ProxyResult = 'hit' | 'miss' | 'stale' | 'error';

/** The plugin's metrics, registered in the metrics plugin's registry when that plugin is loaded. */
export interface ProxyMetrics {
  request(upstream: string, result: ProxyResult): void;
  upstreamBytes(upstream: string, bytes: number): void;
}

export const NO_METRICS: ProxyMetrics = Object.freeze({ request: () => undefined, upstreamBytes: () => undefined });

export function createProxyMetrics(registry: Registry): ProxyMetrics {
  // A second kernel in one process (tests) registers into its own registry; reuse ours if present.
  const existing = (name: string) => registry.getSingleMetric(name) as Counter<string> | undefined;
  const requests = existing('wharf_proxy_cache_requests_total') ?? new Counter({
    name: 'wharf_proxy_cache_requests_total',
    help: 'Manifest and blob requests of proxy-cache projects, by upstream and result (hit, miss, stale, error)',
    labelNames: ['upstream', 'result'],
    registers: [registry],
  });
  const bytes = existing('wharf_proxy_cache_upstream_bytes_total') ?? new Counter({
    name: 'wharf_proxy_cache_upstream_bytes_total',
    help: 'Bytes of blobs and manifests fetched from upstream registries by proxy-cache projects',
    labelNames: ['upstream'],
    registers: [registry],
  });
  return {
    request: (upstream, result) => requests.inc({ upstream, result }),
    upstreamBytes: (upstream, n) => bytes.inc({ upstream }, n),
  };
}
