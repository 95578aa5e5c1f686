import { Type, type Static } from '@wharf/sdk';

/** The `extensions.metrics` section. */
export const metricsConfigSchema = Type.Object(
  {
    endpoint: Type.Boolean({
      default: true,
      description: 'serve GET /metrics on the main listener, to system administrators (Basic or Bearer) and to `scrapeToken`',
    }),
    scrapeToken: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 512,
        secret: true,
        description: 'a Bearer token Prometheus may scrape /metrics on the main listener with (`authorization: { credentials: ... }`); at least 16 characters',
      }),
    ),
    listen: Type.Optional(
      Type.String({
        pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]*):[0-9]{1,5}$',
        description: 'host:port: also serve /metrics WITHOUT authentication on this host:port (Harbor uses :9090); bind it to a private address',
      }),
    ),
    statusRefreshSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 15,
      description: 'how often the gauges read from the database (job queue depth, event consumer lag, open uploads) are refreshed; scrapes never query the database',
    }),
    inventoryRefreshSeconds: Type.Integer({
      minimum: 10,
      maximum: 86_400,
      default: 300,
      description: 'how often the project, repository, artifact and storage gauges are recomputed (a walk over every repository)',
    }),
    processMetrics: Type.Boolean({ default: true, description: "Node.js process metrics (CPU, memory, event loop lag, GC) from prom-client's defaults" }),
  },
  { additionalProperties: false },
);

export type MetricsConfig = Static<typeof metricsConfigSchema>;
