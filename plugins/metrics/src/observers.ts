import type { PluginHooks } from '@wharf/sdk';
import type { WharfMetrics } from './metrics.js';

/**
 * The hook taps that feed the counters and histograms. Every tap is synchronous arithmetic on
 * prom-client objects: nothing here waits, allocates much or can fail a request.
 */

const BLOB_ROUTE = '/v2/{name}/blobs/{digest}';
const MANIFEST_ROUTE = '/v2/{name}/manifests/{reference}';
const FINAL = new Set(['succeeded', 'failed', 'stopped', 'skipped']);

export function tapObservers(hooks: PluginHooks, id: string, m: WharfMetrics): void {
  hooks.http.requestStarted.tap(id, () => m.http.inFlight.inc());
  hooks.http.requestFinished.tap(id, (r) => {
    m.http.inFlight.dec();
    const route = r.route ?? 'unmatched';
    m.http.requests.inc({ method: r.method, route, status: String(r.status) });
    m.http.duration.observe({ method: r.method, route }, r.durationMs / 1000);
    if (r.method === 'GET' && (r.status === 200 || r.status === 206) && r.responseBytes) {
      if (route === BLOB_ROUTE) m.content.pulledBytes.inc({ kind: 'blob' }, r.responseBytes);
      else if (route === MANIFEST_ROUTE) m.content.pulledBytes.inc({ kind: 'manifest' }, r.responseBytes);
    }
  });

  hooks.registry.blobCommitted.tap(id, (e) => {
    if (e.mounted) m.content.blobMounts.inc();
    else m.content.pushedBytes.inc({ kind: 'blob' }, e.size);
  });
  hooks.registry.manifestPushed.tap(id, (e) => {
    m.content.manifestOps.inc({ operation: 'push' });
    m.content.pushedBytes.inc({ kind: 'manifest' }, e.size);
  });
  hooks.registry.artifactPulled.tap(id, () => m.content.manifestOps.inc({ operation: 'pull' }));
  hooks.registry.manifestDeleted.tap(id, () => m.content.manifestOps.inc({ operation: 'delete' }));

  hooks.storage.operationFinished.tap(id, (o) => {
    m.storage.duration.observe({ driver: o.driver, operation: o.operation }, o.durationMs / 1000);
    if (!o.ok) m.storage.errors.inc({ driver: o.driver, operation: o.operation });
  });

  hooks.jobs.attemptFinished.tap(id, (a) => {
    m.jobs.attempts.inc({ type: a.type, outcome: a.outcome });
    m.jobs.duration.observe({ type: a.type, outcome: a.outcome }, a.durationMs / 1000);
  });

  hooks.replication.statusChanged.tap(id, (e) => {
    if (!FINAL.has(e.status)) return;
    const labels = { policy: e.policyName, status: e.status };
    if (e.kind === 'task') {
      m.replication.tasks.inc(labels);
      if (e.bytes) m.replication.bytes.inc({ policy: e.policyName }, e.bytes);
    }
    else m.replication.executions.inc(labels);
  });

  hooks.auth.loginAttempted.tap(id, (l) => m.auth.logins.inc({ provider: l.provider ?? 'none', result: l.ok ? 'success' : 'failure', via: l.via }));
  hooks.auth.tokenIssued.tap(id, (t) => m.auth.tokens.inc({ kind: t.kind, principal: t.principalKind }));
}
