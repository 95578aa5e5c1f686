import { after, describe } from 'node:test';
import { RedisJobService } from './redis/service.js';
import { processScenarios } from './test-support/process-scenarios.js';
import { deleteRedisPrefix, testLogger, uniquePrefix } from './test-support/index.js';

/** kill -9 and two nodes on one Redis, with real child processes. */

describe('redis jobs across processes', () => {
  const prefixes: string[] = [];
  after(async () => {
    for (const p of prefixes) await deleteRedisPrefix(p);
  });
  processScenarios(() => ({
    async prepare() {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      return { settings: { backend: 'redis', redis: { url: process.env['WHARF_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379', prefix } } };
    },
    client(settings) {
      return new RedisJobService({ settings, logger: testLogger, nodeId: 'test-client' });
    },
    // Scheduler jobs are `repeat:<scheduler>:<tick ms>`; every job that ran is one tick.
    async ticks(_name, _client, ranIds) {
      return ranIds.map((id) => Number(id.slice(id.lastIndexOf(':') + 1)));
    },
  }));
});
