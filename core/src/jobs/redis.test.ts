import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Queue } from 'bullmq';
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

describe('redis jobs: schedules', () => {
  it('leaves an unchanged schedule alone (nodes booting together), and replaces a changed one', async () => {
    const prefix = uniquePrefix();
    const settings = testSettings({ backend: 'redis' });
    const node = (n: number) => new RedisJobService({ settings: { ...settings, redis: { ...settings.redis, prefix } }, logger: testLogger, nodeId: `schedules-${n}` });
    const [a, b] = [node(1), node(2)];
    const queue = new Queue('tick', { connection: { url: settings.redis.url } as never, prefix });
    try {
      // Not started: nothing runs the scheduled job, so its delayed job can be looked at.
      await a.schedule('daily', '0 3 * * *', 'tick', { n: 1 });
      const first = await queue.getJobScheduler('daily');
      const job = async () => queue.getJob(`repeat:daily:${first?.next}`);
      const created = (await job())?.timestamp;
      assert.ok(created, 'the next tick is queued');
      await new Promise((r) => setTimeout(r, 20));
      await Promise.all([b.schedule('daily', '0 3 * * *', 'tick', { n: 1 }), a.schedule('daily', '0 3 * * *', 'tick', { n: 1 })]);
      assert.equal((await job())?.timestamp, created, 'the same spec again wrote nothing');
      await b.schedule('daily', '0 4 * * *', 'tick', { n: 1 });
      const moved = await queue.getJobScheduler('daily');
      assert.equal(moved?.pattern, '0 4 * * *', 'a changed spec replaces the schedule');
      assert.equal(await b.unschedule('daily'), true);
      assert.equal(await queue.getJobScheduler('daily'), undefined);
    } finally {
      await queue.close();
      await Promise.all([a.stop(), b.stop()]);
      await deleteRedisPrefix(prefix);
    }
  });
});
