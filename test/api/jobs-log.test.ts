import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { coreServices, definePlugin, Type } from '@wharf/sdk';
import { forEachDatabase } from '@wharf/sdk-testing';
import { ADMIN_PASSWORD, basic, call, startApiRegistry, type ApiRegistry } from './support/api-kit.js';

/**
 * A job's log through the API, on each database: the lines of `ctx.log`, of the job's logger and
 * of the plugin's own logger inside the handler come back from `GET /api/v1/jobs/{id}/log`,
 * oldest first, redacted, bounded per attempt by `jobs.history.maxLogLines`; a non-admin and an
 * anonymous caller are refused; an unknown job is a 404.
 */

const ADMIN = basic('admin', ADMIN_PASSWORD);
const USER_PASSWORD = 'User-Pass-123';

const chatty = definePlugin({
  id: 'chatty',
  kind: 'extension',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.registerInit({
      deps: { jobs: coreServices.jobs },
      init({ jobs }) {
        jobs.define('chatty.work', async (job) => {
          await job.log('step 1 of 2');
          job.logger.info({ repository: 'team/app', password: 'never-shown' }, 'from the job logger');
          ctx.logger.warn('from the plugin logger');
          job.logger.debug('below the node level: not written, not kept');
          for (let i = 0; i < 10; i++) job.logger.info({ i }, 'noise');
        }, { maxAttempts: 1 });
      },
    });
  },
});

forEachDatabase((name) => {
  let reg: ApiRegistry;
  let jobId = '';

  before(async () => {
    reg = await startApiRegistry(name, {
      plugins: [chatty],
      logs: [],
      overrides: { extensions: { chatty: {} }, jobs: { pollIntervalMs: 20, history: { maxLogLines: 5 } } },
    });
    const jobs = reg.server.kernel.resolve(coreServices.jobs);
    jobId = await jobs.enqueue('chatty.work', {});
    for (let i = 0; i < 400 && (await jobs.get(jobId))?.status !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal((await jobs.get(jobId))?.status, 'succeeded');
    assert.equal((await call(reg.url, 'POST', '/api/v1/users', { auth: ADMIN, body: { username: 'olga', password: USER_PASSWORD } })).status, 201);
  });
  after(() => reg?.close());

  it(`${name}: a system admin reads the job and its log lines, bounded and redacted`, async () => {
    const job = await call(reg.url, 'GET', `/api/v1/jobs/${jobId}`, { auth: ADMIN });
    assert.equal(job.status, 200, job.text);
    assert.deepEqual([job.body.id, job.body.type, job.body.status, job.body.attempts], [jobId, 'chatty.work', 'succeeded', 1]);
    const log = await call(reg.url, 'GET', `/api/v1/jobs/${jobId}/log`, { auth: ADMIN });
    assert.equal(log.status, 200, log.text);
    const lines: string[] = log.body.map((l: { message: string }) => l.message);
    assert.equal(lines[0], 'step 1 of 2');
    assert.match(lines[1]!, /^INFO from the job logger \{.*"repository":"team\/app"/);
    assert.doesNotMatch(log.text, /never-shown/, 'redacted as in the node log');
    assert.match(lines[2]!, /^WARN from the plugin logger \{"plugin":"chatty"\}$/);
    assert.ok(!lines.some((l) => l.includes('below the node level')));
    // 5 log lines kept (maxLogLines), then one line saying how many were left out.
    assert.equal(lines.filter((l) => l.startsWith('INFO noise')).length, 3);
    assert.match(lines.at(-1)!, /^WARN 7 more log lines of this attempt were not kept/);
    assert.equal(log.headers.get('x-total-count'), String(lines.length));
  });

  it(`${name}: a user who is not a system admin, and an anonymous caller, are refused; an unknown job is 404`, async () => {
    const olga = basic('olga', USER_PASSWORD);
    assert.equal((await call(reg.url, 'GET', `/api/v1/jobs/${jobId}/log`, { auth: olga })).status, 403);
    assert.equal((await call(reg.url, 'GET', `/api/v1/jobs/${jobId}`, { auth: olga })).status, 403);
    assert.equal((await call(reg.url, 'GET', `/api/v1/jobs/${jobId}/log`)).status, 401);
    assert.equal((await call(reg.url, 'GET', '/api/v1/jobs/999999/log', { auth: ADMIN })).status, 404);
  });
});
