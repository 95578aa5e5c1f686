import { Type } from '@wharf/sdk';
import { FilterPatternSchema } from './filters.js';

/** TypeBox schemas of the replication API (they also make its OpenAPI document). */

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
const Time = Type.String({ format: 'date-time' });
const OptionalTime = Type.Union([Time, Type.Null()]);

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
export const TaskParams = Type.Object({ id: Type.Integer({ minimum: 1 }), task_id: Type.Integer({ minimum: 1 }) });

export const EndpointSchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    description: Type.String(),
    type: Type.String({ description: 'Adapter type, e.g. `oci`.' }),
    url: Type.String(),
    username: Type.Union([Type.String(), Type.Null()]),
    hasSecret: Type.Boolean({ description: 'A secret is stored (encrypted); it is never returned.' }),
    insecure: Type.Boolean({ description: 'TLS certificates are not verified.' }),
    caCertificate: Type.Union([Type.String(), Type.Null()]),
    createdAt: Time,
    updatedAt: Time,
  },
  { $id: 'RegistryEndpoint', additionalProperties: false },
);

const EndpointFields = {
  description: Type.Optional(Type.String({ maxLength: 1024 })),
  type: Type.String({ minLength: 1, maxLength: 64, default: 'oci' }),
  url: Type.String({ minLength: 1, maxLength: 2048, format: 'uri', description: 'Base URL of the registry (http or https), without `/v2`.' }),
  username: Type.Optional(Type.String({ maxLength: 255 })),
  secret: Type.Optional(Type.String({ maxLength: 4096, description: 'Password or token. Stored encrypted; on update, omit to keep it and send "" to remove it.' })),
  insecure: Type.Optional(Type.Boolean()),
  caCertificate: Type.Optional(Type.String({ maxLength: 65536, description: 'PEM certificates to trust for this registry.' })),
};

export const EndpointBody = Type.Object({ name: Name, ...EndpointFields }, { additionalProperties: false });
/** Pinging an endpoint that is not saved: the name is optional. */
export const PingBody = Type.Object({ name: Type.Optional(Name), ...EndpointFields }, { additionalProperties: false });

export const PingResult = Type.Object(
  { ok: Type.Boolean(), message: Type.String() },
  { $id: 'RegistryPing', additionalProperties: false },
);

const Flatten = Type.Union([Type.Literal('none'), Type.Literal(1), Type.Literal(2), Type.Literal(3), Type.Literal('all')], {
  description: 'How many leading levels of the source path the destination namespace replaces (Harbor: 0, 1, 2, 3, -1).',
});

const Filters = Type.Object(
  {
    repositories: Type.Array(FilterPatternSchema, { maxItems: 50, default: [] }),
    tags: Type.Array(FilterPatternSchema, { maxItems: 50, default: [] }),
  },
  { additionalProperties: false },
);

const PolicyFields = {
  description: Type.Optional(Type.String({ maxLength: 1024 })),
  mode: Type.Union([Type.Literal('push'), Type.Literal('pull')], { description: 'push: this registry to the endpoint; pull: the endpoint to this registry.' }),
  endpoint: Type.String({ minLength: 1, maxLength: 128, description: 'Name of the registry endpoint.' }),
  filters: Type.Optional(Filters),
  destinationNamespace: Type.Optional(Type.String({ maxLength: 255 })),
  flatten: Type.Optional(Flatten),
  trigger: Type.Union([Type.Literal('manual'), Type.Literal('scheduled'), Type.Literal('event')]),
  cron: Type.Optional(Type.String({ maxLength: 128, description: 'Scheduled policies: 5 fields, or 6 with seconds first.' })),
  replicateDeletion: Type.Optional(Type.Boolean({ description: 'Event-based push policies: delete at the destination what is deleted here.' })),
  override: Type.Optional(Type.Boolean({ description: 'Replace a destination tag that points at other content (default true).' })),
  bandwidthKbps: Type.Optional(Type.Integer({ minimum: -1, maximum: 10_000_000, description: 'KiB/s per task; -1 unlimited.' })),
  chunkSize: Type.Optional(Type.Union([Type.Integer({ minimum: 1_048_576, maximum: 1_073_741_824 }), Type.Null()], { description: 'Send blobs in chunks of this many bytes.' })),
  enabled: Type.Optional(Type.Boolean()),
};

export const PolicyBody = Type.Object({ name: Name, ...PolicyFields }, { additionalProperties: false });

export const PolicySchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    description: Type.String(),
    mode: Type.String(),
    endpoint: Type.String(),
    filters: Filters,
    destinationNamespace: Type.Union([Type.String(), Type.Null()]),
    flatten: Flatten,
    trigger: Type.String(),
    cron: Type.Union([Type.String(), Type.Null()]),
    replicateDeletion: Type.Boolean(),
    override: Type.Boolean(),
    bandwidthKbps: Type.Integer(),
    chunkSize: Type.Union([Type.Integer(), Type.Null()]),
    enabled: Type.Boolean(),
    createdAt: Time,
    updatedAt: Time,
  },
  { $id: 'ReplicationPolicy', additionalProperties: false },
);

const Counts = Type.Object(
  {
    total: Type.Integer(), pending: Type.Integer(), running: Type.Integer(), succeeded: Type.Integer(),
    failed: Type.Integer(), stopped: Type.Integer(), skipped: Type.Integer(),
  },
  { additionalProperties: false },
);

export const ExecutionSchema = Type.Object(
  {
    id: Type.Integer(),
    policyId: Type.Integer(),
    trigger: Type.String(),
    status: Type.String({ description: 'pending, running, succeeded, failed, stopping or stopped.' }),
    statusText: Type.String(),
    tasks: Counts,
    bytes: Type.Integer({ description: 'Bytes copied by its tasks.' }),
    startedAt: Time,
    finishedAt: OptionalTime,
  },
  { $id: 'ReplicationExecution', additionalProperties: false },
);

export const StartExecutionBody = Type.Object(
  { policy: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ minLength: 1, maxLength: 128 })], { description: 'Policy id or name.' }) },
  { additionalProperties: false },
);

export const TaskSchema = Type.Object(
  {
    id: Type.Integer(),
    executionId: Type.Integer(),
    operation: Type.String(),
    source: Type.String({ description: '`repository:reference` on the source side.' }),
    destination: Type.String(),
    status: Type.String(),
    attempts: Type.Integer(),
    bytes: Type.Integer(),
    digest: Type.Union([Type.String(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    startedAt: OptionalTime,
    finishedAt: OptionalTime,
  },
  { $id: 'ReplicationTask', additionalProperties: false },
);

export const TaskLogSchema = Type.Object(
  { lines: Type.Array(Type.Object({ at: Time, message: Type.String() }, { additionalProperties: false })) },
  { $id: 'ReplicationTaskLog', additionalProperties: false },
);
