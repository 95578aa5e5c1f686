import { Type, type Static } from '@wharf/sdk';

const MiB = 1024 * 1024;

/** S3's own limits on multipart parts: at least 5 MiB (but the last), at most 5 GiB. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;
export const DEFAULT_PART_SIZE = 8 * MiB;

/**
 * Storage classes a registry can read from at once. Archive classes (GLACIER, DEEP_ARCHIVE) need
 * a restore before a GET, so a pull would fail: they are refused by the schema.
 */
export const STORAGE_CLASSES = [
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
  'REDUCED_REDUNDANCY',
] as const;

const RedirectSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description:
        'Answer blob GETs with 307 to a presigned URL (valid for the lifetime the kernel asks, 20 minutes), so clients download straight from the object store.',
    }),
    publicEndpoint: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s/]+(/[^\\s]*)?$',
        description:
          'Endpoint put in presigned URLs when clients reach the store by another address than Wharf does ' +
          '(e.g. Wharf talks to http://minio:9000, clients to https://s3.example.com). Default: `endpoint`.',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

/** The `storage: { s3: {...} }` section of the Wharf config. */
export const s3ConfigSchema = Type.Object(
  {
    bucket: Type.String({
      minLength: 3,
      maxLength: 63,
      description: 'Bucket holding blobs and uploads. It must exist: Wharf never creates or deletes buckets.',
    }),
    region: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'AWS region. Default: `AWS_REGION` / the AWS config files, or `us-east-1` when `endpoint` is set.',
      }),
    ),
    endpoint: Type.Optional(
      Type.String({
        pattern: '^https?://[^\\s/]+/?$',
        description: 'Endpoint of an S3-compatible store (MinIO, Ceph RGW, R2...), e.g. `http://minio:9000`. Default: AWS.',
      }),
    ),
    forcePathStyle: Type.Boolean({
      default: false,
      description: 'Address the bucket as `<endpoint>/<bucket>` rather than `<bucket>.<endpoint>`. Most self-hosted stores need it.',
    }),
    accessKeyId: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Access key id. Without it, the standard AWS credential chain is used (environment, profile, SSO, web identity, ECS or EC2 roles).',
      }),
    ),
    secretAccessKey: Type.Optional(Type.String({ minLength: 1, secret: true, description: 'Secret of `accessKeyId`.' })),
    sessionToken: Type.Optional(Type.String({ minLength: 1, secret: true, description: 'Session token of temporary credentials.' })),
    prefix: Type.String({
      default: '',
      maxLength: 512,
      pattern: "^[A-Za-z0-9!_.*'()/-]*$",
      description: 'Key prefix for everything Wharf writes (e.g. `registry/`; a missing trailing `/` is added), so a bucket can be shared.',
    }),
    serverSideEncryption: Type.Optional(
      Type.Union([Type.Literal('AES256'), Type.Literal('aws:kms'), Type.Literal('aws:kms:dsse')], {
        description: 'Server-side encryption of every object Wharf writes. Default: the bucket default.',
      }),
    ),
    kmsKeyId: Type.Optional(Type.String({ minLength: 1, description: 'KMS key for `aws:kms` / `aws:kms:dsse`. Default: the AWS-managed key.' })),
    storageClass: Type.Optional(
      Type.Union(
        STORAGE_CLASSES.map((name) => Type.Literal(name)),
        { description: 'Storage class of blob data. Markers and scratch objects always use STANDARD. Archive classes are refused.' },
      ),
    ),
    partSize: Type.Integer({
      minimum: MIN_PART_SIZE,
      maximum: MAX_PART_SIZE,
      default: DEFAULT_PART_SIZE,
      description:
        'Bytes per multipart part. An append holds at most (1 + partConcurrency) parts in memory. ' +
        'A blob has at most 10,000 parts, so this also caps the blob size (8 MiB: 78 GiB).',
    }),
    partConcurrency: Type.Integer({ minimum: 1, maximum: 16, default: 2, description: 'Parts of one upload sent at the same time.' }),
    redirect: RedirectSchema,
    maxAttempts: Type.Integer({
      minimum: 1,
      maximum: 20,
      default: 5,
      description: 'Attempts per S3 request, with backoff, on throttling, 5xx and network errors.',
    }),
    retryMode: Type.Union([Type.Literal('standard'), Type.Literal('adaptive')], {
      default: 'standard',
      description: '`standard`: exponential backoff with jitter. `adaptive`: also slows the client down while S3 throttles.',
    }),
    connectTimeoutMs: Type.Integer({ minimum: 100, default: 5000, description: 'TCP (and TLS) connect timeout.' }),
    socketTimeoutMs: Type.Integer({ minimum: 1000, default: 60000, description: 'A request fails after this long without a byte in either direction.' }),
    maxSockets: Type.Integer({ minimum: 1, default: 64, description: 'Open connections to the store. Each streaming pull holds one.' }),
    checksums: Type.Union([Type.Literal('whenSupported'), Type.Literal('whenRequired')], {
      default: 'whenSupported',
      description:
        'Send a CRC checksum with every write (`whenSupported`), or only where S3 requires one (`whenRequired`, for stores that reject the newer checksum headers).',
    }),
  },
  { additionalProperties: false },
);

/** The config as validated (defaults applied by the kernel). */
export type S3Config = Static<typeof s3ConfigSchema>;
