import { Type, type Static } from '@wharf/sdk';

const MiB = 1024 * 1024;

/** Bounds of `chunkSize`: registries refuse tiny chunks (S3-backed ones need 5 MiB parts) and a chunk is held in memory. */
export const MIN_CHUNK_SIZE = 64 * 1024;
export const MAX_CHUNK_SIZE = 512 * MiB;

/** The `replication: { oci: {...} }` section of the Wharf config. Every key has a default. */
export const ociConfigSchema = Type.Object(
  {
    connectTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'TCP (and TLS) connect timeout per connection.' }),
    requestTimeoutMs: Type.Integer({
      minimum: 1000,
      default: 120_000,
      description: 'A request fails when the registry sends no headers, or no body bytes, for this long.',
    }),
    chunkSize: Type.Optional(
      Type.Integer({
        minimum: MIN_CHUNK_SIZE,
        maximum: MAX_CHUNK_SIZE,
        description:
          'Default size of blob upload chunks (PATCH with Content-Range) when a policy sets none. Unset: each blob is sent as one streamed PATCH, as skopeo does. One chunk is held in memory per upload.',
      }),
    ),
    userAgent: Type.String({ minLength: 1, maxLength: 200, default: 'wharf-replication-oci', description: 'User-Agent header of every request.' }),
  },
  { additionalProperties: false },
);

/** The config as validated (defaults applied by the kernel). */
export type OciConfig = Static<typeof ociConfigSchema>;
