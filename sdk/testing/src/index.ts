/**
 * `@wharf/sdk-testing`: the testing kit for Wharf plugins.
 * @packageDocumentation
 */
export { runStorageConformance, type StorageConformanceOptions } from './storage-conformance.js';
export { SeededBytes, seededStream, type SeededStreamOptions } from './fixtures/seeded-bytes.js';
export { collect, digestOf, failingStream, hashStream, streamOf } from './fixtures/streams.js';
