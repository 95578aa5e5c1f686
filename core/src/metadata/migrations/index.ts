import type { Knex } from 'knex';
import * as registry001 from './001_registry.js';
import * as jobs002 from './002_jobs.js';
import * as replication003 from './003_replication.js';
import * as loginAttempts004 from './004_login_attempts.js';

/**
 * Every migration, in order, listed in code so they run from `dist/` without globbing the
 * file system. Append new ones; never rename or edit one that has shipped.
 */
export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Knex.Migration]> = [
  ['001_registry', registry001],
  ['002_jobs', jobs002],
  ['003_replication', replication003],
  ['004_login_attempts', loginAttempts004],
];
