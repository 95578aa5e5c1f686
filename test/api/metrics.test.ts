import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { auditPlugin } from '@wharf/plugin-logging-audit';
import { metricsPlugin, metricsServiceRef } from '@wharf/plugin-metrics';
import { webhooksPlugin } from '@wharf/plugin-webhooks';
import { coreServices, PermanentJobError } from '@wharf/sdk';
import { ADMIN_PASSWORD, basic, bearer, call, fetchToken, startApiRegistry, type ApiRegistry } from './support/api-kit.js';
import { imageParts, OCI_MANIFEST, sha256 } from './support/oci.js';

/**
 * The metrics plugin on a real registry (db auth, projects RBAC, token auth, SQLite): who may
 * read `/metrics` (allowed and denied), the unauthenticated `metrics.listen` listener, and the
 * exposition after real pushes, pulls, logins and jobs, parsed: route templates and never
 * repository names or digests as label values, byte counters, storage, jobs, auth, events,
 * pool and the Harbor-like inventory gauges. Also: every metric the example Grafana dashboard
 * queries exists in a real output.
 */

const SCRAPE_TOKEN = 'scrape-token-0123456789abcdef';
const ADMIN = basic('admin', ADMIN_PASSWORD);
const USER = basic('mira', 'Mira-Pass-123');

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Prometheus text format: `# TYPE` names and every sample line. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { types, samples };
}

/** The sum of the samples of `name` whose labels include `labels`. */
function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

describe('metrics plugin', () => {
  let reg: ApiRegistry;
  let url: string;
  let robot: string;
  const logs: string[] = [];
  const image = imageParts('metrics');

  const scrape = async (auth?: string) => call(url, 'GET', '/metrics', auth ? { auth } : {});

  before(async () => {
    reg = await startApiRegistry('sqlite', {
      // The audit log is there for its durable consumer, whose lag the metrics report; webhooks
      // for their backlog gauges (the example dashboard shows them).
      plugins: [metricsPlugin, auditPlugin, webhooksPlugin],
      logs,
      overrides: {
        rbac: { projects: {} },
        logging: { audit: {} },
        extensions: { metrics: { scrapeToken: SCRAPE_TOKEN, listen: '127.0.0.1:0', processMetrics: true }, webhooks: {} },
      },
    });
    url = reg.url;
    assert.equal((await call(url, 'POST', '/api/v1/users', { auth: ADMIN, body: { username: 'mira', password: 'Mira-Pass-123' } })).status, 201);
    assert.equal((await call(url, 'POST', '/api/v1/projects', { auth: ADMIN, body: { name: 'team', public: false } })).status, 201);
    const res = await call(url, 'POST', '/api/v1/projects/team/robots', {
      auth: ADMIN,
      body: { name: 'ci', duration: -1, permissions: [{ kind: 'project', namespace: 'team', access: [{ resource: 'repository', action: 'pull' }] }] },
    });
    assert.equal(res.status, 201, res.text);
    robot = basic(res.body.robot.name as string, res.body.secret as string);

    // A real push and pull of team/app:v1 with Basic credentials on /v2/.
    for (const blob of [image.config, image.layer]) {
      const up = await call(url, 'POST', `/v2/team/app/blobs/uploads/?digest=${sha256(blob)}`, { auth: ADMIN, body: blob, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(up.status, 201, up.text);
    }
    assert.equal((await call(url, 'PUT', '/v2/team/app/manifests/v1', { auth: ADMIN, body: image.body, headers: { 'content-type': OCI_MANIFEST } })).status, 201);
    assert.equal((await call(url, 'GET', '/v2/team/app/manifests/v1', { auth: ADMIN, headers: { accept: OCI_MANIFEST } })).status, 200);
    const blob = await call(url, 'GET', `/v2/team/app/blobs/${sha256(image.layer)}`, { auth: ADMIN });
    assert.equal(blob.status, 200);
    // One failed login, one token.
    assert.equal((await call(url, 'GET', '/v2/', { auth: basic('mira', 'wrong-password') })).status, 401);
    await fetchToken(url, 'admin', ADMIN_PASSWORD, { scope: 'repository:team/app:pull' });

    // Two jobs on this node: one succeeds, one fails for good.
    const jobs = reg.server.kernel.resolve(coreServices.jobs);
    jobs.define('metrics-probe', async (ctx) => {
      if ((ctx.payload as { fail: boolean }).fail) throw new PermanentJobError('probe failed');
    }, { maxAttempts: 1 });
    const ids = [await jobs.enqueue('metrics-probe', { fail: false }), await jobs.enqueue('metrics-probe', { fail: true })];
    for (const id of ids) {
      for (let i = 0; i < 200 && !['succeeded', 'failed'].includes((await jobs.get(id))?.status ?? ''); i++) await new Promise((r) => setTimeout(r, 25));
    }
    // Replication status as the engine reports it (running a replication needs a second registry;
    // the engine's own tests cover that it calls the hook).
    const status = (kind: 'task' | 'execution', state: 'running' | 'succeeded' | 'failed', taskId?: number, bytes?: number) =>
      reg.server.kernel.hooks.replication.statusChanged.promise({
        id: `e-${kind}-${state}-${taskId ?? 0}`, timestamp: new Date(), kind, policyId: 1, policyName: 'nightly', executionId: 1, status: state,
        ...(taskId ? { taskId } : {}), ...(bytes !== undefined ? { bytes } : {}),
      });
    await status('task', 'running', 1);
    await status('task', 'succeeded', 1, 4096);
    await status('task', 'failed', 2);
    await status('task', 'succeeded', 3, 0);
    await status('execution', 'failed');
    await reg.server.kernel.resolve(metricsServiceRef).refresh();
  });

  after(async () => {
    await reg?.close();
  });

  describe('who may read /metrics on the main listener', () => {
    it('allows a system administrator with Basic credentials and with a Bearer token', async () => {
      assert.equal((await scrape(ADMIN)).status, 200);
      const { token } = await fetchToken(url, 'admin', ADMIN_PASSWORD);
      const res = await scrape(bearer(token));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    });

    it('allows the scrape token, and refuses a wrong one with 401', async () => {
      assert.equal((await scrape(bearer(SCRAPE_TOKEN))).status, 200);
      assert.equal((await scrape(bearer(`${SCRAPE_TOKEN}x`))).status, 401);
      assert.equal((await scrape(bearer('x'.repeat(SCRAPE_TOKEN.length)))).status, 401);
      assert.ok(logs.length > 0, 'logs are captured');
      for (const line of logs) assert.ok(!line.includes(SCRAPE_TOKEN), `a log line holds the scrape token: ${line}`);
    });

    it('refuses anonymous callers (401 with a challenge), a normal user and a robot (403)', async () => {
      const anonymous = await scrape();
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);
      assert.doesNotMatch(anonymous.text, /wharf_/);
      const user = await scrape(USER);
      assert.equal(user.status, 403);
      assert.doesNotMatch(user.text, /wharf_/);
      assert.equal((await scrape(robot)).status, 403);
      assert.equal((await scrape(basic('admin', 'not-the-password'))).status, 401);
    });
  });

  it('serves /metrics without authentication on metrics.listen, and nothing else there', async () => {
    const listener = reg.server.kernel.resolve(metricsServiceRef).listenerUrl();
    assert.ok(listener, 'the listener is up');
    const res = await fetch(`${listener}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^# HELP wharf_/m);
    assert.equal((await fetch(`${listener}/v2/`)).status, 404);
    assert.equal((await fetch(`${listener}/metrics`, { method: 'POST' })).status, 405);
  });

  describe('the exposition after real traffic', () => {
    let samples: Sample[];
    let types: Map<string, string>;

    before(async () => {
      const res = await scrape(ADMIN);
      assert.equal(res.status, 200);
      ({ samples, types } = parseExposition(res.text));
    });

    it('labels HTTP requests by route template, method and status, never by repository name or digest', () => {
      assert.ok(total(samples, 'wharf_http_requests_total', { method: 'PUT', route: '/v2/{name}/manifests/{reference}', status: '201' }) >= 1);
      assert.ok(total(samples, 'wharf_http_requests_total', { method: 'GET', route: '/v2/{name}/blobs/{digest}', status: '200' }) >= 1);
      assert.ok(total(samples, 'wharf_http_requests_total', { method: 'POST', route: '/api/v1/projects/{project_name}/robots', status: '201' }) >= 1, 'API routes by template');
      assert.ok(total(samples, 'wharf_http_request_duration_seconds_count', { route: '/v2/{name}/blobs/uploads/' }) >= 2);
      for (const s of samples) {
        for (const value of Object.values(s.labels)) {
          assert.doesNotMatch(value, /team\/app|sha256:|mira|robot\$/, `${s.name} has a label value ${value}`);
        }
      }
      // The scrape that produced this output was the only request in flight.
      assert.equal(total(samples, 'wharf_http_requests_in_flight'), 1);
    });

    it('counts bytes pushed and pulled and manifest operations', () => {
      assert.equal(total(samples, 'wharf_registry_pushed_bytes_total', { kind: 'blob' }), image.config.length + image.layer.length);
      assert.equal(total(samples, 'wharf_registry_pushed_bytes_total', { kind: 'manifest' }), image.body.length);
      assert.equal(total(samples, 'wharf_registry_pulled_bytes_total', { kind: 'blob' }), image.layer.length);
      assert.equal(total(samples, 'wharf_registry_pulled_bytes_total', { kind: 'manifest' }), image.body.length);
      assert.equal(total(samples, 'wharf_registry_manifest_operations_total', { operation: 'push' }), 1);
      assert.equal(total(samples, 'wharf_registry_manifest_operations_total', { operation: 'pull' }), 1);
      assert.equal(total(samples, 'wharf_registry_uploads_in_progress'), 0);
    });

    it('times storage operations by operation', () => {
      assert.ok(total(samples, 'wharf_storage_operation_duration_seconds_count', { driver: 'fs', operation: 'commit' }) >= 2);
      assert.ok(total(samples, 'wharf_storage_operation_duration_seconds_count', { driver: 'fs', operation: 'read' }) >= 1);
      assert.equal(types.get('wharf_storage_operation_duration_seconds'), 'histogram');
    });

    it('counts logins by provider and result, and tokens issued', () => {
      assert.ok(total(samples, 'wharf_auth_logins_total', { provider: 'db', result: 'success' }) >= 1);
      assert.ok(total(samples, 'wharf_auth_logins_total', { provider: 'none', result: 'failure', via: 'v2' }) >= 1);
      assert.ok(total(samples, 'wharf_auth_tokens_issued_total', { kind: 'access', principal: 'user' }) >= 1);
    });

    it('reports job runs by type and outcome, consumer lag, and the database pool', () => {
      assert.equal(total(samples, 'wharf_job_attempts_total', { type: 'metrics-probe', outcome: 'succeeded' }), 1);
      assert.equal(total(samples, 'wharf_job_attempts_total', { type: 'metrics-probe', outcome: 'failed' }), 1);
      assert.equal(types.get('wharf_jobs_queue_depth'), 'gauge');
      assert.ok(samples.some((s) => s.name === 'wharf_events_consumer_lag_seconds' && s.labels.consumer), 'a durable consumer\'s lag');
      assert.equal(total(samples, 'wharf_database_pool_connections', { state: 'max' }), 1, 'SQLite: one connection');
    });

    it('counts finished replication tasks and executions by policy and status', () => {
      assert.equal(total(samples, 'wharf_replication_tasks_total', { policy: 'nightly', status: 'succeeded' }), 2);
      assert.equal(total(samples, 'wharf_replication_tasks_total', { policy: 'nightly', status: 'failed' }), 1);
      assert.equal(total(samples, 'wharf_replication_tasks_total', { status: 'running' }), 0, 'only final statuses');
      assert.equal(total(samples, 'wharf_replication_executions_total', { policy: 'nightly', status: 'failed' }), 1);
      // Bytes by policy: what the finished tasks say they copied.
      assert.equal(total(samples, 'wharf_replication_bytes_total', { policy: 'nightly' }), 4096);
    });

    it('has Harbor-exporter-like inventory gauges per project', () => {
      assert.equal(total(samples, 'wharf_projects'), 1);
      assert.equal(total(samples, 'wharf_repositories'), 1);
      assert.equal(total(samples, 'wharf_artifacts'), 1);
      assert.equal(total(samples, 'wharf_project_repositories', { project: 'team' }), 1);
      assert.equal(total(samples, 'wharf_project_storage_bytes', { project: 'team' }), image.config.length + image.layer.length + image.body.length);
    });

    it('exports every metric the example Grafana dashboard queries', async () => {
      const dashboard = await readFile(new URL('../../../docs/grafana/wharf.json', import.meta.url), 'utf8');
      const queried = new Set([...dashboard.matchAll(/\bwharf_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
      assert.ok(queried.size > 20, `the dashboard queries ${queried.size} metrics`);
      const missing = [...queried].filter((name) => !types.has(name));
      assert.deepEqual(missing, []);
    });
  });
});
