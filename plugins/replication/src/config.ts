import { Type, type Static } from '@wharf/sdk';

/**
 * The `extensions: { replication: {...} }` section of the Wharf config: how the engine runs
 * executions (the adapters are the `replication` plugins, e.g. `replication: { oci: {} }`).
 * These were the kernel's `replicationEngine` keys, with the same defaults.
 */
export const replicationConfigSchema = Type.Object(
  {
    taskConcurrency: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'replication tasks (artifacts) copied at once on each node' }),
    taskAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'runs of a task before it fails (the first counts); only unreachable registries and 5xx/429 answers are retried' }),
    retryBackoffMs: Type.Integer({ minimum: 100, maximum: 600000, default: 2000, description: "delay before a task's first retry; doubles on each further retry" }),
    keepExecutions: Type.Integer({ minimum: 1, maximum: 100000, default: 50, description: 'finished executions kept per policy; older ones are deleted with their tasks and logs' }),
  },
  { additionalProperties: false, default: {} },
);

export type ReplicationConfig = Static<typeof replicationConfigSchema>;
