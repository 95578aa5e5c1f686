/**
 * `@wharf/core`: the Wharf kernel. Load a config, create and boot a kernel, serve it.
 * @packageDocumentation
 */
export { KERNEL_VERSION } from './version.js';
export { loadConfig, configProblems, deepMerge, type LoadConfigOptions } from './config/load-config.js';
export {
  buildConfigSchema,
  DEFAULT_EXTENSIONS,
  KernelConfigSchema,
  PLUGIN_SECTIONS,
  type KernelConfigInput,
  type PluginSectionName,
} from './config/schema.js';
export { redactConfig, collectSecrets, REDACTED, type SecretInfo } from './config/secrets.js';
export { formatProblem, type ConfigProblem } from './config/validate.js';
export type { LoadedConfig, LoadedPlugin, WharfConfig, DatabaseSettings, LogLevel } from './config/types.js';
export { createKernel, type Kernel, type KernelOptions, type KernelState } from './kernel/kernel.js';
export { startServer, type StartServerOptions, type RunningServer } from './kernel/start-server.js';
export { resolvePlugin, checkPlugin, candidatePackages } from './kernel/plugin-resolver.js';
export { verifyPlugin, type PluginVerification, type VerifyPluginOptions } from './kernel/verify-plugin.js';
export type { BootRecord } from './kernel/boot-tree.js';
export { createHooks, createPluginHooks, hasTaps, pluginOfError } from './hooks/index.js';
export { createLogger } from './logging/logger.js';
export { FileSinkOptions } from './logging/sinks/file.js';
export { serviceName, ServiceRegistry } from './container/service-registry.js';
export { createApp } from './http/app.js';
export { serveKernel, handleSignals, type ServerHandle } from './http/server.js';
export { createMetadataStore } from './metadata/index.js';
export type { MetadataStore, DatabaseConfig } from './metadata/types.js';
export { createDatabaseService, createOwnerMigrator } from './metadata/index.js';
export { migrationOwner } from './kernel/plugin-start.js';
export { createEventsRuntime, type EventsRuntime } from './events/events-runtime.js';
export { EmbeddedJobService, type JobRuntime } from './jobs/index.js';
