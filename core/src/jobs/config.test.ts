import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configProblems, loadConfig } from '../config/load-config.js';
import { redactConfig } from '../config/secrets.js';
import { OPEN_REGISTRY } from '../kernel/test-support.js';

/** The `jobs` config section: defaults, validation with key paths, env overrides, redaction. */

const base = { dataDir: '/tmp/wharf-jobs-config', storage: { fs: { root: '/tmp/wharf-jobs-config/blobs' } }, ...OPEN_REGISTRY };

async function problems(jobs: unknown, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadConfig({ config: { ...base, jobs }, env });
  } catch (err) {
    return configProblems(err).map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('jobs config', () => {
  it('defaults to the embedded backend', async () => {
    const { config } = await loadConfig({ config: base, env: {} });
    assert.deepEqual(config.jobs, {
      backend: 'embedded',
      redis: { prefix: 'wharf' },
      leaseSeconds: 30,
      pollIntervalMs: 1000,
      stopTimeoutMs: 10000,
      history: { keep: 1000, maxAgeDays: 14, maxLogLines: 1000 },
    });
  });

  it('names the key path of each problem', async () => {
    assert.deepEqual(await problems({ backend: 'kafka' }), ['jobs.backend: must be one of "embedded", "redis"']);
    assert.deepEqual(await problems({ backend: 'redis' }), ['jobs.redis.url: is required when backend is redis']);
    assert.deepEqual(await problems({ redis: { url: 'http://x' } }), ['jobs.redis.url: must be a redis:// or rediss:// URL']);
    const many = await problems({ leaseSeconds: 0, history: { keep: -1 }, workers: 2, redis: { prefix: 'a:b' } });
    assert.ok(many.includes('jobs.workers: is not a known key'), many.join('\n'));
    assert.ok(many.includes('jobs.leaseSeconds: must be >= 1'), many.join('\n'));
    assert.ok(many.includes('jobs.history.keep: must be >= 0'), many.join('\n'));
    assert.ok(many.some((p) => p.startsWith('jobs.redis.prefix: must be letters')), many.join('\n'));
  });

  it('takes WHARF_JOBS__* environment overrides', async () => {
    const { config } = await loadConfig({
      config: base,
      env: {
        WHARF_JOBS__BACKEND: 'redis',
        WHARF_JOBS__REDIS__URL: 'redis://:s3cret-pw@10.0.0.5:6379/2',
        WHARF_JOBS__REDIS__PREFIX: 'wharf-prod',
        WHARF_JOBS__LEASE_SECONDS: '45',
        WHARF_JOBS__POLL_INTERVAL_MS: '250',
        WHARF_JOBS__HISTORY__KEEP: '50',
        WHARF_JOBS__HISTORY__MAX_AGE_DAYS: '2.5',
      },
    });
    assert.deepEqual(config.jobs, {
      backend: 'redis',
      redis: { url: 'redis://:s3cret-pw@10.0.0.5:6379/2', prefix: 'wharf-prod' },
      leaseSeconds: 45,
      pollIntervalMs: 250,
      stopTimeoutMs: 10000,
      history: { keep: 50, maxAgeDays: 2.5, maxLogLines: 1000 },
    });
  });

  it('treats redis.url as a secret: masked in printed config, scrubbed from logs', async () => {
    const loaded = await loadConfig({ config: { ...base, jobs: { backend: 'redis', redis: { url: 'redis://user:s3cret-pw@10.0.0.5:6379' } } }, env: {} });
    assert.ok(loaded.secrets.paths.includes('jobs.redis.url'));
    assert.ok(loaded.secrets.values.includes('s3cret-pw'));
    const printed = JSON.stringify(redactConfig(loaded.config, loaded.secrets));
    assert.ok(!printed.includes('s3cret-pw'), printed);
    assert.ok(printed.includes('redis://user:[redacted]@10.0.0.5:6379'), printed);
  });
});
