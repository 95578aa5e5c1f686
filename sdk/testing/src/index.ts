/**
 * `@wharf/sdk-testing`: the testing kit for Wharf plugins, used by the first-party plugins too.
 * - {@link verifyPlugin}: one plugin through the production loader, without booting.
 * - {@link createTestKernel}: a booted kernel without HTTP, for hook and service tests.
 * - {@link startTestRegistry}: a real registry on a free port, for OCI API tests.
 * - {@link tinyImage}, {@link pushImage}, {@link pullManifest}, {@link pullBlob}: image fixtures
 *   with fixed digests, and the OCI calls to push and pull them.
 * - {@link runStorageConformance}: the shared suite every storage driver must pass.
 * - {@link runAuthProviderConformance}: what every `auth` plugin must do.
 * - {@link startTestPlugin}, {@link mockServices}: one plugin on mocked kernel services, without a kernel.
 * - {@link forEachDatabase}, {@link createTestDatabase}: real SQLite, PostgreSQL and MySQL databases.
 * @see docs/architecture/04-plugins.md
 * @packageDocumentation
 */
import './test-secret-hashes.js';
export { verifyPlugin, type PluginVerification, type VerifyPluginOptions } from './verify.js';
export { createTestKernel, type TestKernel } from './test-kernel.js';
export { startTestRegistry, type TestRegistry, type TestRegistryOptions } from './test-registry.js';
export { TEST_DEFAULTS, type TestKernelOptions } from './test-config.js';
export { captureLogs, type CapturedLogs } from './logs.js';
export { configProblems, loadTestConfig, type LoadedConfig, type LoadTestConfigOptions } from './load-test-config.js';
export {
  tinyImage,
  OCI_CONFIG,
  OCI_LAYER_TAR,
  OCI_MANIFEST,
  type ImageBlob,
  type OciImage,
  type TinyImage,
  type TinyImageOptions,
} from './fixtures/tiny-image.js';
export {
  pushBlob,
  pushImage,
  pullBlob,
  pullManifest,
  OciResponseError,
  type OciRequestOptions,
  type PulledManifest,
  type PushedImage,
} from './oci-client.js';
export { runStorageConformance, type StorageConformanceOptions } from './storage-conformance.js';
export {
  runAuthProviderConformance,
  type AuthProviderConformanceOptions,
  type AuthProviderUnderTest,
} from './auth-conformance.js';
export { runReplicationTargetConformance, type ReplicationConformanceOptions } from './replication-conformance.js';
export { SeededBytes, seededStream, type SeededStreamOptions } from './fixtures/seeded-bytes.js';
export { collect, digestOf, failingStream, hashStream, streamOf } from './fixtures/streams.js';
export {
  createTestDatabase,
  forEachDatabase,
  selectedDatabases,
  TEST_DATABASE_NAMES,
  type TestDatabase,
  type TestDatabaseConfig,
  type TestDatabaseName,
} from './databases/index.js';
export { mockServices, type MockDatabase, type MockJobs, type MockSettings } from './mock-services.js';
export { startTestPlugin, type TestPlugin, type TestPluginOptions } from './test-plugin.js';
export { runCommand, type CommandRun, type RunCommandOptions } from './run-command.js';
export { assertApiError, basicAuth, callApi, type ApiCallOptions, type JsonResponse } from './api-client.js';
