import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { coreServices, createServiceRef, definePlugin, Type, type JobService } from '@wharf/sdk';
import { loadConfig } from '../config/load-config.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';
import { baseConfig, captureLogs, tempDir, type CapturedLogs } from '../kernel/test-support.js';
import { deleteRedisPrefix, REDIS_URL, uniquePrefix, waitFor } from './test-support/index.js';

/**
 * Every line a job writes carries its job id: through the job's own `logger`, and through the
 * plugin's `ctx.logger` called from the handler (the log context), on both backends; and both
 * are kept in the job's own log.
 */

const greeterRef = createServiceRef<{ readonly jobs: JobService }>({ id: 'test.greeter' });

function greeter() {
  return definePlugin({
    id: 'greeter',
    kind: 'extension',
    version: '1.0.0',
    kernel: '^0.1.0',
    configSchema: Type.Object({}),
    register(ctx) {
      ctx.provide(greeterRef, {
        deps: { jobs: coreServices.jobs },
        factory: ({ jobs }) => {
          jobs.define('greet', async (job) => {
            job.logger.info('from the job logger');
            await new Promise((r) => setTimeout(r, 5));
            ctx.logger.info({ to: (job.payload as { to: string }).to }, 'from the plugin logger');
          });
          return { jobs };
        },
      });
    },
  });
}

for (const backend of ['embedded', 'redis'] as const) {
  describe(`job log lines (${backend})`, () => {
    let kernel: Kernel;
    let logs: CapturedLogs;
    const prefix = uniquePrefix();
    let cleanup: () => Promise<void>;

    after(async () => {
      await kernel?.close();
      await cleanup?.();
      if (backend === 'redis') await deleteRedisPrefix(prefix);
    });

    it('carry the job id and type, whichever logger wrote them', async () => {
      const tmp = await tempDir('wharf-job-ids-');
      cleanup = tmp.cleanup;
      const jobs = backend === 'redis' ? { backend, redis: { url: REDIS_URL, prefix }, pollIntervalMs: 20 } : { pollIntervalMs: 20 };
      const loaded = await loadConfig({ config: { ...baseConfig(tmp.dir, { extensions: { greeter: {} } }), jobs }, env: {}, plugins: [greeter()] });
      logs = captureLogs();
      kernel = createKernel(loaded, { logDestination: logs.stream });
      await kernel.boot();
      const service = kernel.resolve(greeterRef).jobs;
      const ids = [await service.enqueue('greet', { to: 'a' }), await service.enqueue('greet', { to: 'b' })];
      await waitFor('both jobs done', async () => {
        const done = await Promise.all(ids.map(async (id) => (await service.get(id))?.status === 'succeeded'));
        return done.every(Boolean) || undefined;
      });
      for (const [i, id] of ids.entries()) {
        const mine = logs.lines().filter((l) => l.jobId === id);
        assert.deepEqual(mine.filter((l) => String(l.msg).startsWith('from the')).map((l) => l.msg).sort(), ['from the job logger', 'from the plugin logger'], JSON.stringify(mine));
        assert.ok(mine.every((l) => l.jobType === 'greet'));
        assert.equal(mine.find((l) => l.msg === 'from the plugin logger')?.to, ['a', 'b'][i]);
        assert.equal(mine.find((l) => l.msg === 'from the plugin logger')?.plugin, 'greeter');
        // The same lines are kept in the job's own log (GET /api/v1/jobs/{id}/log), in order.
        const kept = (await service.log(id)).map((l) => l.message).filter((m) => m.includes('from the'));
        assert.deepEqual(kept, ['INFO from the job logger', `INFO from the plugin logger {"plugin":"greeter","to":"${['a', 'b'][i]}"}`]);
      }
    });
  });
}
