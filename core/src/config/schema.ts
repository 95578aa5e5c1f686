import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { PluginKind } from '@wharf/sdk';

/**
 * The kernel's config schema. Plugin sections are permissive here; once the plugins named in
 * the file are loaded, {@link buildConfigSchema} puts each plugin's own schema at its place so
 * the whole file is validated in one pass.
 */

/** `host:port` or `[v6]:port`; an empty host means every interface. */
export const LISTEN_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]\\s]*):[0-9]{1,5}$';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const closed = { additionalProperties: false } as const;

/** A human description of what a `pattern` accepts, used in error messages. */
export const HINT = 'x-hint';

/**
 * A default derived at boot, for `wharf config print` (see effective.ts): a template with
 * `{dataDir}` and `{publicUrl}`; `DEFAULT_UNLESS` names a sibling key that makes it moot.
 */
export const DEFAULT_FROM = 'x-default-from';
export const DEFAULT_UNLESS = 'x-default-unless';

export const ServerSchema = Type.Object(
  {
    listen: Type.String({
      pattern: LISTEN_PATTERN,
      default: '127.0.0.1:5000',
      description: 'host:port to listen on',
      [HINT]: 'host:port, e.g. 127.0.0.1:5000, 0.0.0.0:5000 or [::1]:5000',
    }),
    publicUrl: Type.Optional(Type.String({ format: 'uri', description: 'external base URL; derived from listen when unset' })),
    shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 10000, description: 'how long in-flight requests may drain at shutdown' }),
    bootTimeoutMs: Type.Integer({
      minimum: 1,
      default: 60000,
      description: "longest one plugin's boot step may take (storage health check, init, each lifecycle.ready tap) before boot fails naming it",
    }),
    trustProxy: Type.Boolean({ default: false, description: 'trust X-Forwarded-* headers' }),
  },
  { ...closed, default: {} },
);

/**
 * One `log.sinks` entry. The keys below are common to every type; the type's own keys (a
 * file's `path`, a syslog `host`) sit beside them and are checked by the sink type at boot.
 */
export const LogSinkSchema = Type.Object(
  {
    type: Type.String({ minLength: 1, description: 'stdout, file, or a type a logging plugin provides (syslog, ...); a plugin type loads `logging.<type>` by itself' }),
    channels: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'channels forwarded (`app` for ordinary lines, `audit`, ...); absent: every channel' }),
    ),
    level: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)), { description: 'lowest level forwarded; absent: log.level' })),
    bufferSize: Type.Integer({ minimum: 1, maximum: 1000000, default: 10000, description: 'records held while the sink is slow or down; beyond, new records are dropped and counted' }),
    batchSize: Type.Integer({ minimum: 1, maximum: 10000, default: 100, description: 'most records handed to the sink at once' }),
  },
  { additionalProperties: true },
);

export const LogSchema = Type.Object(
  {
    level: Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)), { default: 'info' }),
    format: Type.Union([Type.Literal('auto'), Type.Literal('json'), Type.Literal('pretty')], {
      default: 'auto',
      description: 'auto: pretty on a TTY, else json',
    }),
    access: Type.Boolean({ default: true, description: 'one access log line per request' }),
    deniedAccess: Type.Object(
      {
        windowSeconds: Type.Integer({
          minimum: 1,
          maximum: 86_400,
          default: 60,
          description:
            'refused access (401/403, scopes not granted) is recorded as an auth.access.denied event (the audit log shows it with result denied) once per actor, client address and operation in this window; the refusals after the first are recorded as one event with their count when the window ends',
        }),
        maxKeys: Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          default: 1000,
          description: 'distinct (actor, address, operation) keys per window on each node; refusals past it are counted in one overflow event, so a flood cannot flood the event log',
        }),
      },
      { ...closed, default: {} },
    ),
    sinks: Type.Array(LogSinkSchema, {
      default: [{ type: 'stdout' }],
      description: 'where log records go (docs/architecture/19-logging.md); stdout and file are built in, other types come from logging plugins',
    }),
  },
  { ...closed, default: {} },
);

const ConnectionObject = Type.Object(
  {
    host: Type.Optional(Type.String()),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    user: Type.Optional(Type.String()),
    password: Type.Optional(Type.String({ secret: true })),
    database: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const DatabaseSchema = Type.Object(
  {
    client: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres'), Type.Literal('mysql')], { default: 'sqlite' }),
    filename: Type.Optional(Type.String({ minLength: 1, description: 'sqlite only; default <dataDir>/wharf.db' })),
    connection: Type.Optional(
      // A URL may carry a password: it is a secret as a whole (printing masks only the password).
      Type.Union([Type.String({ minLength: 1, secret: true }), ConnectionObject], { description: 'postgres/mysql: URL or object' }),
    ),
    pool: Type.Optional(
      Type.Object({ min: Type.Optional(Type.Integer({ minimum: 0 })), max: Type.Optional(Type.Integer({ minimum: 1 })) }, closed),
    ),
    migrate: Type.Boolean({ default: true, description: 'run migrations at boot' }),
  },
  { ...closed, default: {} },
);

export const RegistrySchema = Type.Object(
  {
    deleteEnabled: Type.Boolean({ default: true, description: 'allow DELETE of manifests, tags and blobs; false answers 405 UNSUPPORTED' }),
    maxManifestBytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024, description: 'largest manifest accepted; larger ones get 413' }),
    uploadLeaseMs: Type.Integer({
      minimum: 1000,
      default: 15000,
      description: 'how long one writer holds an upload without renewing; a crashed writer blocks resuming that long',
    }),
    maxOpenUploadsPerRepository: Type.Integer({
      minimum: 1,
      default: 256,
      description: 'most blob uploads open at once in one repository; a POST beyond gets 429 TOOMANYREQUESTS until some finish, are cancelled or expire',
    }),
    maxOpenUploadsPerUser: Type.Integer({
      minimum: 1,
      default: 64,
      description: 'most blob uploads one user (or, anonymous, one client address) holds open at once; a POST beyond gets 429 TOOMANYREQUESTS',
    }),
  },
  { ...closed, default: {} },
);

/** Signature algorithms the token service can sign with (and the key type each needs). */
export const TOKEN_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

export const TokenKeysSchema = Type.Object(
  {
    signingKeyFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'PEM private key to sign with (relative to the config file); default: generated `<dataDir>/token/signing.pem`',
        [DEFAULT_FROM]: '{dataDir}/token/signing.pem',
        [DEFAULT_UNLESS]: 'signingKey',
      }),
    ),
    signingKey: Type.Optional(Type.String({ minLength: 1, secret: true, description: 'PEM private key given inline instead of signingKeyFile' })),
    verificationKeyFiles: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'more PEM public keys, private keys or certificates whose tokens are accepted (key rotation)',
    }),
  },
  { ...closed, default: {} },
);

export const TokenSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Docker token auth: /v2/ needs a Bearer token from /service/token (Basic is accepted too). Secure by default; false only for an open registry or another token issuer.' }),
    service: Type.String({ minLength: 1, default: 'wharf', description: 'the service name clients ask tokens for; the audience of the tokens' }),
    issuer: Type.String({ minLength: 1, default: 'wharf-token-issuer', description: 'the `iss` claim written and required' }),
    realm: Type.Optional(Type.String({ format: 'uri', description: 'token endpoint URL sent in challenges; default `<publicUrl>/service/token`', [DEFAULT_FROM]: '{publicUrl}/service/token' })),
    lifetimeSeconds: Type.Integer({ minimum: 60, maximum: 86400, default: 300, description: 'lifetime of access tokens' }),
    algorithm: Type.Union(TOKEN_ALGORITHMS.map((a) => Type.Literal(a)), { default: 'RS256', description: 'signature algorithm of issued tokens' }),
    keys: TokenKeysSchema,
    leewaySeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30, description: 'clock skew tolerated when checking exp and nbf' }),
    refreshLifetimeSeconds: Type.Integer({
      minimum: 60,
      default: 604800,
      description: 'lifetime of refresh tokens (offline_token=true, docker login identity tokens)',
    }),
    credentialCacheSeconds: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 30,
      description: 'how long verified credentials are remembered (keyed by an HMAC, never the password); 0 disables',
    }),
    credentialCacheSize: Type.Integer({ minimum: 0, default: 1000, description: 'most verified credentials remembered at once' }),
    activeCacheSeconds: Type.Integer({
      minimum: 0,
      maximum: 300,
      default: 5,
      description: 'how long an `auth.active` answer (is the account behind a token still there?) is reused; a deleted or disabled user\'s tokens stop working within this time; 0 asks every time',
    }),
    loginConcurrencyPerUser: Type.Integer({
      minimum: 0,
      default: 4,
      description: 'most credential checks of one user name running at once, across all nodes sharing the database; more get 429 with Retry-After; 0: no limit',
    }),
    loginConcurrencyPerAddress: Type.Integer({
      minimum: 0,
      default: 16,
      description: 'most credential checks from one client address running at once, across all nodes; more get 429 with Retry-After; 0: no limit',
    }),
    failedLoginMinMs: Type.Integer({
      minimum: 0,
      maximum: 5000,
      default: 250,
      description: 'a refused login takes at least this long, and as long as recent refusals took, so answer times do not tell which provider knows a user name',
    }),
    maxScopesPerRequest: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 50,
      description: 'most `scope` values one token request may carry (each becomes a claim in the token); more get 400',
    }),
  },
  { ...closed, default: {} },
);

export const JOB_BACKENDS = ['embedded', 'redis'] as const;

export const JobsSchema = Type.Object(
  {
    backend: Type.Union(JOB_BACKENDS.map((b) => Type.Literal(b)), {
      default: 'embedded',
      description: 'embedded: jobs live in the metadata database (nothing else to run); redis: BullMQ on Redis, for many nodes',
    }),
    redis: Type.Object(
      {
        // A URL may carry a password: it is a secret as a whole (printing masks only the password).
        url: Type.Optional(Type.String({ minLength: 1, secret: true, description: 'redis:// or rediss:// URL; required when backend is redis' })),
        prefix: Type.String({
          minLength: 1,
          maxLength: 64,
          pattern: '^[A-Za-z0-9_.{}-]+$',
          default: 'wharf',
          description: 'prefix of every Redis key, so several deployments can share one Redis',
          [HINT]: 'letters, digits, `_`, `.`, `-`, `{` and `}`',
        }),
      },
      { ...closed, default: {} },
    ),
    leaseSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: 'how long a node holds a running job without renewing; a job of a node that died runs again after this long',
    }),
    pollIntervalMs: Type.Integer({ minimum: 10, maximum: 60000, default: 1000, description: 'embedded: how often each node looks for due jobs and cron ticks' }),
    stopTimeoutMs: Type.Integer({
      minimum: 0,
      default: 10000,
      description: 'at shutdown, how long running handlers get to stop after their signal is aborted; unfinished jobs are queued again for another node',
    }),
    history: Type.Object(
      {
        keep: Type.Integer({ minimum: 0, default: 1000, description: 'finished jobs kept per job type; older ones are deleted with their log lines' }),
        maxAgeDays: Type.Number({ exclusiveMinimum: 0, default: 14, description: 'finished jobs older than this are deleted' }),
        maxLogLines: Type.Integer({
          minimum: 0,
          maximum: 100_000,
          default: 1000,
          description:
            "log lines a job attempt writes at the node's log level kept in the job's own log (GET /api/v1/jobs/{id}/log), besides the lines of ctx.log; past it one line says how many more were left out; 0 keeps none",
        }),
      },
      { ...closed, default: {} },
    ),
  },
  { ...closed, default: {} },
);

/** Durable events: how nodes deliver them to consumers and how long delivered ones are kept. */
export const EventsSchema = Type.Object(
  {
    pollIntervalMs: Type.Integer({
      minimum: 10,
      maximum: 60000,
      default: 500,
      description: 'how often each node looks for events to deliver that another node recorded (its own are delivered at once)',
    }),
    leaseSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: 'how long a node holds a delivery without renewing; a delivery of a node that died is retried after this long',
    }),
    maxAttempts: Type.Integer({ minimum: 1, maximum: 1000, default: 12, description: 'deliveries of one event to one consumer before it is marked dead (a consumer may set its own)' }),
    retentionHours: Type.Number({ exclusiveMinimum: 0, default: 168, description: 'delivered events older than this are deleted (hourly)' }),
    deadRetentionHours: Type.Number({ exclusiveMinimum: 0, default: 720, description: 'dead deliveries older than this are deleted (hourly)' }),
    pullBatchSize: Type.Integer({ minimum: 1, maximum: 5000, default: 500, description: 'most pull events recorded in one write' }),
    pullFlushMs: Type.Integer({
      minimum: 0,
      maximum: 10000,
      default: 0,
      description:
        '0 (default): each manifest GET waits for the write that records its pull, shared with the pulls arriving meanwhile (group commit; an answered pull is never lost). Above 0: pulls are buffered and written every this many ms, or when pullBatchSize are waiting; GETs do not wait, more pulls per second are served, and a crash loses at most this interval of pull records (Harbor-style trade for very busy pull traffic)',
    }),
  },
  { ...closed, default: {} },
);

/** Marks a schema node as "plugin sections live below": env overrides and plugin attribution use it. */
export const PLUGIN_SECTION_MARK = 'x-wharf-plugins';

const AnySection = Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]);
const KEY = { minLength: 1 };

function pluginMap(kind: PluginKind, options: { min?: number; max?: number; default: unknown }) {
  return Type.Record(Type.String(KEY), AnySection, {
    [PLUGIN_SECTION_MARK]: kind,
    default: options.default,
    ...(options.min === undefined ? {} : { minProperties: options.min }),
    ...(options.max === undefined ? {} : { maxProperties: options.max }),
  });
}

function pluginList(kind: PluginKind, options: { default: unknown }) {
  return Type.Array(Type.Record(Type.String(KEY), AnySection, { minProperties: 1, maxProperties: 1 }), {
    [PLUGIN_SECTION_MARK]: kind,
    default: options.default,
  });
}

/**
 * Secure by default (Harbor's defaults): local users with a bootstrapped admin, and projects
 * with roles. An open registry says so explicitly with `auth: []` and `rbac: {}`.
 */
export const DEFAULT_AUTH = Object.freeze([Object.freeze({ db: Object.freeze({}) })]);
export const DEFAULT_RBAC = Object.freeze({ projects: Object.freeze({}) });
/** Replication to and from any OCI registry works out of the box, as in Harbor. */
export const DEFAULT_REPLICATION = Object.freeze({ oci: Object.freeze({}) });
/** The audit log records from the first boot (Harbor's is always on); `logging: {}` turns it off. */
export const DEFAULT_LOGGING = Object.freeze({ audit: Object.freeze({}) });
/**
 * The replication engine (`@wharf/plugin-replication`, as Harbor always has one), repository
 * management (`@wharf/plugin-extension-repositories`), webhooks (`@wharf/plugin-webhooks`:
 * no policy, no delivery), tag retention (`@wharf/plugin-tag-retention`: no policy, nothing
 * deleted), tag immutability (`@wharf/plugin-tag-immutability`: no rule, no refusal) and quotas
 * (`@wharf/plugin-quotas`: unlimited by default, as in Harbor) and online garbage collection
 * (`@wharf/plugin-gc`: on demand, or on a schedule once one is set) and proxy-cache projects
 * (`@wharf/plugin-proxy-cache`: no project is a proxy until an administrator makes one). The `wharf` binary adds its own
 * extensions to these (`server/src/index.ts`).
 */
export const DEFAULT_EXTENSIONS = Object.freeze({
  replication: Object.freeze({}),
  repositories: Object.freeze({}),
  webhooks: Object.freeze({}),
  'tag-retention': Object.freeze({}),
  'tag-immutability': Object.freeze({}),
  quotas: Object.freeze({}),
  gc: Object.freeze({}),
  'proxy-cache': Object.freeze({}),
});

/** The plugin sections of the file, with their kind and shape. */
export const PLUGIN_SECTIONS = Object.freeze({
  storage: { kind: 'storage', shape: 'one' },
  auth: { kind: 'auth', shape: 'list' },
  rbac: { kind: 'rbac', shape: 'optional-one' },
  replication: { kind: 'replication', shape: 'map' },
  logging: { kind: 'logging', shape: 'map' },
  extensions: { kind: 'extension', shape: 'map' },
} as const satisfies Record<string, { kind: PluginKind; shape: 'one' | 'optional-one' | 'map' | 'list' }>);
export type PluginSectionName = keyof typeof PLUGIN_SECTIONS;

/** A loaded plugin's schema at its place in the file. */
export interface PluginSchemaSlot {
  readonly section: PluginSectionName;
  readonly key: string;
  /** Position in `auth` (list sections only). */
  readonly index?: number;
  readonly schema: TSchema;
}

function mapWith(kind: PluginKind, slots: readonly PluginSchemaSlot[], options: { min?: number; max?: number; default: unknown }) {
  const properties = Object.fromEntries(slots.map((s) => [s.key, s.schema]));
  return Type.Object(properties, {
    additionalProperties: false,
    [PLUGIN_SECTION_MARK]: kind,
    default: options.default,
    ...(options.min === undefined ? {} : { minProperties: options.min }),
    ...(options.max === undefined ? {} : { maxProperties: options.max }),
  });
}

function listWith(kind: PluginKind, slots: readonly PluginSchemaSlot[]) {
  const ordered = [...slots].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  // Draft-07 tuple form: entry i must be the one-key object naming plugin i.
  const items = ordered.map((s) => Type.Object({ [s.key]: s.schema }, { additionalProperties: false }));
  return Type.Unsafe({
    type: 'array',
    [PLUGIN_SECTION_MARK]: kind,
    default: [],
    // Draft-07 forbids an empty tuple; an empty list is just `maxItems: 0`.
    ...(items.length > 0 ? { items, additionalItems: false } : {}),
    minItems: items.length,
    maxItems: items.length,
  });
}

/**
 * The kernel schema. Without slots, plugin sections accept any object per key (structure only);
 * with slots, each section holds exactly the loaded plugins' schemas.
 */
export function buildConfigSchema(slots?: readonly PluginSchemaSlot[]) {
  const of = (section: PluginSectionName) => (slots ?? []).filter((s) => s.section === section);
  const sections = slots
    ? {
        storage: mapWith('storage', of('storage'), { min: 1, max: 1, default: { fs: {} } }),
        auth: listWith('auth', of('auth')),
        rbac: mapWith('rbac', of('rbac'), { max: 1, default: DEFAULT_RBAC }),
        replication: mapWith('replication', of('replication'), { default: DEFAULT_REPLICATION }),
        logging: mapWith('logging', of('logging'), { default: DEFAULT_LOGGING }),
        extensions: mapWith('extension', of('extensions'), { default: DEFAULT_EXTENSIONS }),
      }
    : {
        storage: pluginMap('storage', { min: 1, max: 1, default: { fs: {} } }),
        auth: pluginList('auth', { default: DEFAULT_AUTH }),
        rbac: pluginMap('rbac', { max: 1, default: DEFAULT_RBAC }),
        replication: pluginMap('replication', { default: DEFAULT_REPLICATION }),
        logging: pluginMap('logging', { default: DEFAULT_LOGGING }),
        extensions: pluginMap('extension', { default: DEFAULT_EXTENSIONS }),
      };
  return Type.Object(
    {
      dataDir: Type.String({ minLength: 1, default: './data', description: 'resolved against the working directory' }),
      server: ServerSchema,
      log: LogSchema,
      database: DatabaseSchema,
      registry: RegistrySchema,
      token: TokenSchema,
      jobs: JobsSchema,
      events: EventsSchema,
      secretKey: Type.Optional(
        Type.String({
          minLength: 1,
          secret: true,
          description: 'base64 of 32 random bytes that encrypts stored secrets (`coreServices.secrets`: replication credentials, ...); default: a key file created in the data directory. Give every node the same key.',
        }),
      ),
      ...sections,
    },
    { additionalProperties: false, $id: 'https://wharf.dev/schemas/config.json', title: 'Wharf configuration' },
  );
}

/** The kernel schema with permissive plugin sections (for docs, OpenAPI and the structure pass). */
export const KernelConfigSchema = buildConfigSchema();

/** The file as written (every defaulted key optional). */
export type KernelConfigInput = Partial<Static<typeof KernelConfigSchema>>;

