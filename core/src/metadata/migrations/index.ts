import type { Knex } from 'knex';
import * as registry001 from './001_registry.js';
import * as jobs002 from './002_jobs.js';
import * as replication003 from './003_replication.js';
import * as events004 from './004_events.js';
import * as content005 from './005_content.js';
import * as loginAttempts006 from './006_login_attempts.js';
import * as blobDeletion007 from './007_blob_deletion.js';
import * as configFingerprint008 from './008_config_fingerprint.js';
import * as blobCommits009 from './009_blob_commits.js';

/**
 * Every migration, in order, listed in code so they run from `dist/` without globbing the
 * file system. Append new ones; never rename or edit one that has shipped.
 */
export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Knex.Migration]> = [
  ['001_registry', registry001],
  ['002_jobs', jobs002],
  ['003_replication', replication003],
  ['004_events', events004],
  ['005_content', content005],
  ['006_login_attempts', loginAttempts006],
  ['007_blob_deletion', blobDeletion007],
  ['008_config_fingerprint', configFingerprint008],
  ['009_blob_commits', blobCommits009],
];
