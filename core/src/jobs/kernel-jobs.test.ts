import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { coreServices, createServiceRef, definePlugin, Type, type JobService } from '@wharf/sdk';
import { loadConfig } from '../config/load-config.js';
import { createKernel } from '../kernel/kernel.js';
import { baseConfig, captureLogs, tempDir } from '../kernel/test-support.js';
import { createMetadataStore, KnexMetadataStore } from '../metadata/index.js';
import { testLogger, untilAborted, waitFor } from './test-support/index.js';

/** `coreServices.jobs` in a real kernel: defined by a plugin, started after ready, stopped at close. */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const workerRef = createServiceRef<{ readonly jobs: JobService }>({ id: 'test.worker' });

async function kernelWith(runJobs?: boolean) {
  const tmp = await tempDir('wharf-jobs-kernel-');
  const events: string[] = [];
  let jobs: JobService | undefined;
  const plugin = definePlugin({
    id: 'job-user',
    kind: 'extension',
    version: '1.0.0',
    kernel: '^0.1.0',
    configSchema: Type.Object({}),
    register(ctx) {
      // The way a plugin defines its job types: in a factory that depends on coreServices.jobs.
      ctx.provide(workerRef, {
        deps: { jobs: coreServices.jobs },
        factory: ({ jobs: j }) => {
          jobs = j;
          j.define('hello', async (job) => void events.push(`hello ${String((job.payload as { to: string }).to)}`));
          j.define('hang', async (job) => {
            events.push('hang started');
            await untilAborted(job.signal).catch((e: unknown) => {
              events.push('hang aborted');
              throw e;
            });
          });
          return { jobs: j };
        },
      });
      ctx.hooks.lifecycle.ready.tapPromise('enqueue', async () => {
        const id = (await jobs?.enqueue('hello', { to: 'world' })) as string;
        await new Promise((r) => setTimeout(r, 100));
        events.push(`ready: ${(await jobs?.get(id))?.status ?? 'none'}`);
      });
    },
  });
  const loaded = await loadConfig({ config: { ...baseConfig(tmp.dir, { extensions: { 'job-user': {} } }), jobs: { pollIntervalMs: 20 } }, env: {}, plugins: [plugin] });
  const logs = captureLogs();
  const kernel = createKernel(loaded, { logDestination: logs.stream, ...(runJobs === undefined ? {} : { runJobs }) });
  cleanups.push(async () => {
    await kernel.close();
    await tmp.cleanup();
  });
  return { kernel, events, dir: tmp.dir, jobs: () => jobs as JobService };
}

describe('kernel jobs service', () => {
  it('provides coreServices.jobs, runs jobs after ready, and stops them before the database closes', async () => {
    const { kernel, events, jobs } = await kernelWith();
    await kernel.boot();
    assert.equal(kernel.resolve(coreServices.jobs).backend, 'embedded');
    assert.equal(kernel.resolve(coreServices.jobs), jobs());
    await waitFor('hello ran', () => events.includes('hello world'));
    assert.equal(events[0], 'ready: queued', 'enqueued in ready, run only after ready');
    await jobs().enqueue('hang', {});
    await waitFor('hang started', () => events.includes('hang started'));
    await kernel.close();
    assert.ok(events.includes('hang aborted'), 'close aborted the running handler');
  });

  it('queues a job stopped by shutdown again, without using an attempt', async () => {
    const first = await kernelWith();
    await first.kernel.boot();
    const id = await first.jobs().enqueue('hang', {});
    await waitFor('hang started', () => first.events.includes('hang started'));
    assert.equal((await first.jobs().get(id))?.status, 'running');
    await first.kernel.close();
    const store = createMetadataStore({ client: 'sqlite', filename: path.join(first.dir, 'wharf.db') }, testLogger);
    try {
      const row = (await (store as KnexMetadataStore).knex('jobs').where({ id: Number(id) }).first('status', 'attempts', 'lease_owner')) as Record<string, unknown>;
      assert.deepEqual({ ...row, attempts: Number(row.attempts) }, { status: 'queued', attempts: 0, lease_owner: null });
    } finally {
      await store.close();
    }
  });

  it('starts no workers with runJobs: false (CLI commands)', async () => {
    const { kernel, events, jobs } = await kernelWith(false);
    await kernel.boot();
    const id = await jobs().enqueue('hello', { to: 'cli' });
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!events.includes('hello cli'));
    assert.equal((await jobs().get(id))?.status, 'queued');
  });
});

describe('kernel jobs service on redis', () => {
  it('fails the boot naming the jobs backend when Redis does not answer', async () => {
    const tmp = await tempDir('wharf-jobs-kernel-');
    const loaded = await loadConfig({ config: { ...baseConfig(tmp.dir), jobs: { backend: 'redis', redis: { url: 'redis://127.0.0.1:1' } } }, env: {} });
    const kernel = createKernel(loaded, { logDestination: captureLogs().stream });
    cleanups.push(async () => {
      await kernel.close();
      await tmp.cleanup();
    });
    await assert.rejects(kernel.boot(), (err: Error & { code?: string }) => err.code === 'REG_ERR_JOBS_BACKEND' && /jobs \(redis\) could not start/.test(err.message));
  });
});
