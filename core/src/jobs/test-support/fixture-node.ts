import { createMetadataStore, KnexMetadataStore } from '../../metadata/index.js';
import type { DatabaseConfig, MetadataStore } from '../../metadata/types.js';
import type { JobsSettings } from '../../config/types.js';
import { EmbeddedJobService } from '../embedded/service.js';
import { RedisJobService } from '../redis/service.js';
import type { JobRuntime } from '../types.js';
import { testLogger } from './index.js';

/**
 * A Wharf node in a child process, for the process-level tests (kill -9, several nodes). It
 * reads its setup from WHARF_JOBS_FIXTURE (JSON), prints one JSON line per event on stdout, and
 * stops gracefully on SIGTERM. Defines:
 * - `slow`: hangs on its first attempt (the test kills the process), succeeds on the next;
 * - `tick`: records each run (for the cron test, which schedules it every second).
 */

interface FixtureSetup {
  readonly settings: JobsSettings;
  readonly database?: DatabaseConfig;
  readonly node: string;
  readonly schedule?: string;
}

const setup = JSON.parse(process.env['WHARF_JOBS_FIXTURE'] ?? '{}') as FixtureSetup;
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ node: setup.node, ...event })}\n`);

let store: MetadataStore | undefined;
let jobs: JobRuntime;
const options = { settings: setup.settings, logger: testLogger.child({ node: setup.node }), nodeId: setup.node };
if (setup.settings.backend === 'redis') jobs = new RedisJobService(options);
else {
  store = createMetadataStore(setup.database as DatabaseConfig, testLogger);
  jobs = new EmbeddedJobService((store as KnexMetadataStore).knex, options);
}

jobs.define('slow', async (ctx) => {
  await ctx.log(`attempt ${ctx.attempt} on ${setup.node}`);
  emit({ event: 'started', id: ctx.id, attempt: ctx.attempt });
  if (ctx.attempt === 1) await new Promise(() => undefined); // killed in here
  emit({ event: 'done', id: ctx.id, attempt: ctx.attempt });
});
jobs.define('tick', async (ctx) => void emit({ event: 'ran', id: ctx.id, at: Date.now() }), { concurrency: 4 });

if (setup.schedule) await jobs.schedule(setup.schedule, '* * * * * *', 'tick', {});
await jobs.start();
emit({ event: 'ready' });

process.on('SIGTERM', () => {
  void (async () => {
    await jobs.stop();
    await store?.close();
    emit({ event: 'stopped' });
    process.exit(0);
  })();
});
