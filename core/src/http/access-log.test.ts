import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { definePlugin, Type, type Principal } from '@wharf/sdk';
import { startServer, type RunningServer } from '../kernel/start-server.js';
import { baseConfig, captureLogs, tempDir, type CapturedLogs } from '../kernel/test-support.js';

/** The access line holds what operators grep for, and every line of a request shares its id. */

const gate = definePlugin({
  id: 'gate',
  kind: 'auth',
  version: '1.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.hooks.auth.authenticate.tapPromise('gate', async (credentials) => {
      // The plugin's own logger, not the request's: the line must still carry the request id.
      ctx.logger.info({ user: credentials.kind === 'basic' ? credentials.username : undefined }, 'gate asked');
      if (credentials.kind === 'basic' && credentials.password === 'Gate-Pw-1') {
        return { subject: credentials.username, kind: 'user', provider: 'gate', groups: [], admin: true } satisfies Principal;
      }
      return undefined;
    });
  },
});

function get(url: string, headers: Record<string, string>): Promise<{ status: number; requestId: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: String(res.headers['x-request-id']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('access log', () => {
  let server: RunningServer;
  let logs: CapturedLogs;
  let cleanup: () => Promise<void>;

  before(async () => {
    const tmp = await tempDir('wharf-access-');
    cleanup = tmp.cleanup;
    logs = captureLogs();
    server = await startServer({
      config: baseConfig(tmp.dir, { auth: [{ gate: {} }], server: { trustProxy: true } }),
      listen: '127.0.0.1:0',
      env: {},
      plugins: [gate],
      logDestination: logs.stream,
    });
  });

  after(async () => {
    await server.close();
    await cleanup();
  });

  it('writes method, path, query, status, bytes, duration, user, client address and user agent', async () => {
    const res = await get(`${server.url}/v2/_catalog?n=5&last=a`, {
      authorization: `Basic ${Buffer.from('alice:Gate-Pw-1').toString('base64')}`,
      'user-agent': 'skopeo/1.9.3',
      'x-forwarded-for': '203.0.113.9',
    });
    assert.equal(res.status, 200);
    const line = logs.lines().find((l) => l.msg === 'request' && l.reqId === res.requestId);
    assert.ok(line, 'one access line with the request id');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/v2/_catalog');
    assert.equal(line.query, 'n=5&last=a');
    assert.equal(line.status, 200);
    assert.ok(typeof line.bytes === 'number' && line.bytes > 0, String(line.bytes));
    assert.ok(typeof line.durationMs === 'number' && line.durationMs >= 0);
    assert.equal(line.user, 'alice');
    assert.equal(line.clientIp, '203.0.113.9');
    assert.equal(line.userAgent, 'skopeo/1.9.3');
  });

  it('names an anonymous caller and its socket address', async () => {
    const res = await get(`${server.url}/healthz`, {});
    assert.equal(res.status, 200);
    const line = logs.lines().find((l) => l.msg === 'request' && l.reqId === res.requestId);
    assert.equal(line?.user, 'anonymous');
    assert.match(String(line?.clientIp), /127\.0\.0\.1$/);
    assert.equal(line?.userAgent, undefined);
  });

  it("puts the request id on a plugin's own log lines written while serving it", async () => {
    const res = await get(`${server.url}/v2/`, { authorization: `Basic ${Buffer.from('bob:wrong').toString('base64')}` });
    assert.equal(res.status, 401);
    const mine = logs.lines().filter((l) => l.reqId === res.requestId);
    const asked = mine.find((l) => l.msg === 'gate asked');
    assert.ok(asked, `the gate line carries reqId: ${JSON.stringify(mine)}`);
    assert.equal(asked.plugin, 'gate');
    assert.ok(mine.some((l) => l.msg === 'request'));
    // Exactly one reqId key per line: the mixin never repeats a bound field.
    const raw = logs.text().split('\n').filter((l) => l.includes(res.requestId));
    for (const l of raw) assert.equal(l.split('"reqId"').length, 2, l);
  });
});
