import type { Knex } from 'knex';
import { EmbeddedJobService } from './embedded/service.js';
import type { JobRuntime, JobRuntimeOptions } from './types.js';

let redisBackend: typeof import('./redis/service.js') | undefined;

/**
 * Loads the backend `settings` name before {@link createJobRuntime}: BullMQ and ioredis take a
 * quarter of a second of CPU to import, which only deployments on Redis should pay.
 */
export async function loadJobBackend(settings: JobRuntimeOptions['settings']): Promise<void> {
  if (settings.backend === 'redis') redisBackend ??= await import('./redis/service.js');
}

/**
 * The jobs service the `jobs` config names. The kernel provides it as `coreServices.jobs`,
 * starts it after `lifecycle.ready` and stops it at close while the database is still open.
 */
export function createJobRuntime(options: JobRuntimeOptions & { readonly knex: () => Knex }): JobRuntime {
  const logger = options.logger.child({ component: 'jobs' });
  if (options.settings.backend === 'redis') {
    if (!redisBackend) throw new Error('the redis jobs backend was not loaded (loadJobBackend)');
    return new redisBackend.RedisJobService({ ...options, logger });
  }
  return new EmbeddedJobService(options.knex(), { ...options, logger });
}

export type { JobRuntime, JobRuntimeOptions } from './types.js';
export { EmbeddedJobService } from './embedded/service.js';
