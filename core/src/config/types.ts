import type { ConfigProblem } from './validate.js';
import type { LogSinkEntry, WharfPlugin } from '@wharf/sdk';
import type { JOB_BACKENDS, LOG_LEVELS, PluginSectionName, TOKEN_ALGORITHMS } from './schema.js';
import type { SecretInfo } from './secrets.js';

/** A plugin's config section: whatever its schema says, validated. */
export type PluginSectionConfig = Readonly<Record<string, unknown>>;

export type LogLevel = (typeof LOG_LEVELS)[number];
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

export type DatabaseSettings =
  | { readonly client: 'sqlite'; readonly filename: string; readonly migrate: boolean }
  | {
      readonly client: 'postgres' | 'mysql';
      readonly connection: string | Readonly<Record<string, unknown>>;
      readonly pool?: { readonly min?: number; readonly max?: number };
      readonly migrate: boolean;
    };

/** The `token` section: Docker token auth. Key file paths are as written (relative to the config file). */
export interface TokenSettings {
  readonly enabled: boolean;
  readonly service: string;
  readonly issuer: string;
  readonly realm?: string;
  readonly lifetimeSeconds: number;
  readonly algorithm: TokenAlgorithm;
  readonly keys: {
    readonly signingKeyFile?: string;
    readonly signingKey?: string;
    readonly verificationKeyFiles: readonly string[];
  };
  readonly leewaySeconds: number;
  readonly refreshLifetimeSeconds: number;
  readonly credentialCacheSeconds: number;
  readonly credentialCacheSize: number;
  readonly activeCacheSeconds: number;
  readonly loginConcurrencyPerUser: number;
  readonly loginConcurrencyPerAddress: number;
  readonly failedLoginMinMs: number;
  readonly maxScopesPerRequest: number;
}

/** The `jobs` section: the durable jobs service (`coreServices.jobs`). */
export interface JobsSettings {
  readonly backend: (typeof JOB_BACKENDS)[number];
  readonly redis: { readonly url?: string; readonly prefix: string };
  readonly leaseSeconds: number;
  readonly pollIntervalMs: number;
  readonly stopTimeoutMs: number;
  readonly history: { readonly keep: number; readonly maxAgeDays: number; readonly maxLogLines?: number };
}

/** The `events` section: delivery of durable events (`coreServices.events`). */
export interface EventsSettings {
  readonly pollIntervalMs: number;
  readonly leaseSeconds: number;
  readonly maxAttempts: number;
  readonly retentionHours: number;
  readonly deadRetentionHours: number;
  readonly pullBatchSize: number;
  readonly pullFlushMs: number;
}

/** The effective configuration: validated, defaults applied, paths absolute, frozen. */
export interface WharfConfig {
  readonly dataDir: string;
  readonly server: {
    readonly listen: string;
    readonly publicUrl: string;
    readonly shutdownTimeoutMs: number;
    readonly bootTimeoutMs: number;
    readonly trustProxy: boolean;
  };
  readonly log: {
    readonly level: LogLevel;
    readonly format: 'auto' | 'json' | 'pretty';
    readonly access: boolean;
    /** `log.sinks`: common keys checked by the schema, the type's own keys by the sink type. */
    readonly sinks: readonly LogSinkEntry[];
    readonly deniedAccess: { readonly windowSeconds: number; readonly maxKeys: number };
  };
  readonly database: DatabaseSettings;
  readonly registry: {
    readonly deleteEnabled: boolean;
    readonly maxManifestBytes: number;
    readonly uploadLeaseMs: number;
    readonly maxOpenUploadsPerRepository: number;
    readonly maxOpenUploadsPerUser: number;
  };
  readonly token: TokenSettings;
  readonly jobs: JobsSettings;
  readonly events: EventsSettings;
  /** Base64 key that encrypts stored secrets; unset: a key file in the data directory. */
  readonly secretKey?: string | undefined;
  readonly storage: Readonly<Record<string, PluginSectionConfig>>;
  readonly auth: readonly Readonly<Record<string, PluginSectionConfig>>[];
  readonly rbac: Readonly<Record<string, PluginSectionConfig>>;
  readonly replication: Readonly<Record<string, PluginSectionConfig>>;
  readonly logging: Readonly<Record<string, PluginSectionConfig>>;
  readonly extensions: Readonly<Record<string, PluginSectionConfig>>;
}

/** A plugin found for a config key, checked, with its validated section. */
export interface LoadedPlugin {
  readonly plugin: WharfPlugin;
  readonly section: PluginSectionName;
  /** The key as written in the file (`fs`, `@acme/storage-minio`, `./plugins/x`). */
  readonly key: string;
  /** Position in a list section (`auth`). */
  readonly index: number | undefined;
  /** Where in the file: `storage.fs`, `auth[1].ldap`. */
  readonly configPath: string;
  /** The module it came from (`undefined` for a plugin handed over in code). */
  readonly source: string | undefined;
  /** Its config section, after validation (filled in by loadConfig). */
  readonly config: PluginSectionConfig;
}

/** What {@link loadConfig} returns and {@link createKernel} takes. */
export interface LoadedConfig {
  readonly config: WharfConfig;
  /** Plugins in registration order (config order, then `dependsOn`). */
  readonly plugins: readonly LoadedPlugin[];
  /** The config file, when there was one. */
  readonly file: string | undefined;
  /** Directory relative keys and plugins are resolved from. */
  readonly baseDir: string;
  /** The composite JSON schema the file was validated against. */
  readonly schema: unknown;
  /**
   * Secret paths and values for redaction, the ones read from `<key>File` and `WHARF_..._FILE`
   * included (at the secret key's own path, `auth[0].ldap.bindPassword`).
   */
  readonly secrets: SecretInfo;
  /** What is valid but likely wrong (a `${VAR}` placeholder used literally); `config check` prints, `serve` logs them. */
  readonly warnings: readonly ConfigProblem[];
}
