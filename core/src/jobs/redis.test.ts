import { after, describe } from 'node:test';
import { jobServiceBehaviour, type JobsHarness } from './test-support/behaviour-suite.js';
import { RedisJobService } from './redis/service.js';
import { deleteRedisPrefix, testLogger, testSettings, uniquePrefix } from './test-support/index.js';

/** The behaviour suite on the Redis (BullMQ) backend; every test has its own key prefix. */

describe('redis jobs', () => {
  const prefixes: string[] = [];
  after(async () => {
    for (const p of prefixes) await deleteRedisPrefix(p);
  });
  const harness = (): JobsHarness => ({
    async namespace() {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      let n = 0;
      return (options = {}) => {
        const settings = testSettings({ ...options.settings, backend: 'redis' });
        return new RedisJobService({
          settings: { ...settings, redis: { ...settings.redis, prefix } },
          logger: testLogger,
          nodeId: `test-node-${(n += 1)}`,
        });
      };
    },
  });
  jobServiceBehaviour(harness);
});
