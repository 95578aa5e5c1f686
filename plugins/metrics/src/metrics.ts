import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric the plugin exports, in one prom-client registry per kernel (not the global one:
 * tests run several kernels in one process). Names follow Prometheus conventions: `wharf_`
 * prefix, base units (seconds, bytes), `_total` on counters. Labels are bounded sets: route
 * templates, methods, statuses, operation and job type names, providers, consumer and policy
 * names, projects; never repository names, digests or users.
 */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

export function createMetrics(options: { processMetrics: boolean }) {
  const registry = new Registry();
  const reg = { registers: [registry] };
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'wharf_' });
  return {
    registry,
    http: {
      requests: new Counter({ name: 'wharf_http_requests_total', help: 'HTTP requests by method, route template and status', labelNames: ['method', 'route', 'status'], ...reg }),
      duration: new Histogram({ name: 'wharf_http_request_duration_seconds', help: 'HTTP request duration by method and route template', labelNames: ['method', 'route'], buckets: LATENCY_BUCKETS, ...reg }),
      inFlight: new Gauge({ name: 'wharf_http_requests_in_flight', help: 'HTTP requests being served by this node', ...reg }),
    },
    content: {
      pushedBytes: new Counter({ name: 'wharf_registry_pushed_bytes_total', help: 'Bytes pushed: uploaded blobs (not mounts) and manifests', labelNames: ['kind'], ...reg }),
      pulledBytes: new Counter({ name: 'wharf_registry_pulled_bytes_total', help: 'Bytes served by blob and manifest GETs (redirects to storage not counted)', labelNames: ['kind'], ...reg }),
      manifestOps: new Counter({ name: 'wharf_registry_manifest_operations_total', help: 'Manifest pushes, pulls (GET) and deletes', labelNames: ['operation'], ...reg }),
      blobMounts: new Counter({ name: 'wharf_registry_blob_mounts_total', help: 'Blobs linked by cross-repository mount', ...reg }),
      uploadsInProgress: new Gauge({ name: 'wharf_registry_uploads_in_progress', help: 'Open upload sessions across the registry (counted up to 1000), refreshed every statusRefreshSeconds', ...reg }),
    },
    storage: {
      duration: new Histogram({ name: 'wharf_storage_operation_duration_seconds', help: 'Storage driver call duration by driver and operation', labelNames: ['driver', 'operation'], buckets: LATENCY_BUCKETS, ...reg }),
      errors: new Counter({ name: 'wharf_storage_operation_errors_total', help: 'Storage driver calls that failed', labelNames: ['driver', 'operation'], ...reg }),
    },
    jobs: {
      queueDepth: new Gauge({ name: 'wharf_jobs_queue_depth', help: 'Jobs waiting to run by type, refreshed every statusRefreshSeconds', labelNames: ['type'], ...reg }),
      duration: new Histogram({ name: 'wharf_job_duration_seconds', help: 'Job handler run time on this node by type and outcome', labelNames: ['type', 'outcome'], buckets: JOB_BUCKETS, ...reg }),
      attempts: new Counter({ name: 'wharf_job_attempts_total', help: 'Job handler runs on this node by type and outcome (succeeded, retry, failed)', labelNames: ['type', 'outcome'], ...reg }),
    },
    replication: {
      tasks: new Counter({ name: 'wharf_replication_tasks_total', help: 'Replication tasks finished by policy and status', labelNames: ['policy', 'status'], ...reg }),
      bytes: new Counter({ name: 'wharf_replication_bytes_total', help: 'Bytes copied by finished replication tasks (blobs and manifests sent to the destination), by policy', labelNames: ['policy'], ...reg }),
      executions: new Counter({ name: 'wharf_replication_executions_total', help: 'Replication executions finished by policy and status', labelNames: ['policy', 'status'], ...reg }),
    },
    auth: {
      logins: new Counter({ name: 'wharf_auth_logins_total', help: 'Logins checked by the auth providers, by provider, result and entry point', labelNames: ['provider', 'result', 'via'], ...reg }),
      tokens: new Counter({ name: 'wharf_auth_tokens_issued_total', help: 'Tokens issued by the token service, by kind and principal kind', labelNames: ['kind', 'principal'], ...reg }),
    },
    events: {
      lag: new Gauge({ name: 'wharf_events_consumer_lag_seconds', help: 'Age of the oldest event a durable consumer has not yet received, refreshed every statusRefreshSeconds', labelNames: ['consumer'], ...reg }),
      backlog: new Gauge({ name: 'wharf_events_consumer_deliveries', help: 'Deliveries of a durable consumer by status (pending, running, dead)', labelNames: ['consumer', 'status'], ...reg }),
    },
    inventory: {
      projects: new Gauge({ name: 'wharf_projects', help: 'Projects (first path segment of repository names) holding repositories', ...reg }),
      repositories: new Gauge({ name: 'wharf_repositories', help: 'Repositories', ...reg }),
      artifacts: new Gauge({ name: 'wharf_artifacts', help: 'Artifacts (manifests)', ...reg }),
      projectRepositories: new Gauge({ name: 'wharf_project_repositories', help: 'Repositories per project', labelNames: ['project'], ...reg }),
      projectArtifacts: new Gauge({ name: 'wharf_project_artifacts', help: 'Artifacts per project', labelNames: ['project'], ...reg }),
      projectBytes: new Gauge({ name: 'wharf_project_storage_bytes', help: 'Bytes per project as quotas count them (a blob shared by repositories counts in each)', labelNames: ['project'], ...reg }),
      refreshed: new Gauge({ name: 'wharf_inventory_refresh_timestamp_seconds', help: 'When the project, repository and artifact gauges were last recomputed', ...reg }),
    },
  };
}

export type WharfMetrics = ReturnType<typeof createMetrics>;
