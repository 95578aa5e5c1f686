import type { Knex } from 'knex';
import { EmbeddedJobService } from './embedded/service.js';
import { RedisJobService } from './redis/service.js';
import type { JobRuntime, JobRuntimeOptions } from './types.js';

/**
 * The jobs service the `jobs` config names. The kernel provides it as `coreServices.jobs`,
 * starts it after `lifecycle.ready` and stops it at close while the database is still open.
 */
export function createJobRuntime(options: JobRuntimeOptions & { readonly knex: () => Knex }): JobRuntime {
  const logger = options.logger.child({ component: 'jobs' });
  if (options.settings.backend === 'redis') return new RedisJobService({ ...options, logger });
  return new EmbeddedJobService(options.knex(), { ...options, logger });
}

export type { JobRuntime, JobRuntimeOptions } from './types.js';
export { EmbeddedJobService } from './embedded/service.js';
export { RedisJobService } from './redis/service.js';
