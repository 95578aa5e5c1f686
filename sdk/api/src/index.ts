/**
 * `@wharf/sdk`: the contract between the Wharf kernel and its plugins.
 * Plugins depend on this package only.
 * @packageDocumentation
 */
export * from './plugin.js';
export * from './hooks.js';
export * from './services.js';
export * from './content.js';
export * from './storage.js';
export * from './database.js';
export * from './errors.js';
export * from './digest.js';
export * from './secret-hash.js';
export * from './principal.js';
export * from './events.js';
export * from './observations.js';
export * from './durable-events.js';
export * from './http.js';
export * from './management-api.js';
export * from './list-sort.js';
export * from './replication.js';
export * from './retention.js';
export * from './secrets.js';
export * from './projects.js';
export * from './jobs.js';
export * from './cli.js';
export * from './streams.js';
export * from './logging.js';
export * from './webhooks.js';
export * from './rows.js';
export * from './selectors.js';
export * from './ui.js';
export { Type } from '@sinclair/typebox';
export type { Static, TSchema } from '@sinclair/typebox';
