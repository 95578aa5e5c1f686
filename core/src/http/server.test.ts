import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { definePlugin, RegistryError, Type, type HttpContext, type WharfPlugin } from '@wharf/sdk';
import { startServer, type RunningServer } from '../kernel/start-server.js';
import { baseConfig, captureLogs, tempDir, type CapturedLogs } from '../kernel/test-support.js';

/** The HTTP shell over a real socket: ids, errors, health, extension routes, graceful stop. */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Started {
  server: RunningServer;
  logs: CapturedLogs;
  dir: string;
}

async function start(plugins: WharfPlugin[] = [], extra: Record<string, unknown> = {}): Promise<Started> {
  const tmp = await tempDir('wharf-http-');
  const logs = captureLogs();
  const extensions = Object.fromEntries(plugins.map((p) => [p.id, {}]));
  const server = await startServer({
    config: baseConfig(tmp.dir, { extensions, ...extra }),
    listen: '127.0.0.1:0',
    env: {},
    plugins,
    logDestination: logs.stream,
  });
  cleanups.push(async () => {
    await server.close();
    await tmp.cleanup();
  });
  return { server, logs, dir: tmp.dir };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, options: http.RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function ext(id: string, routes: (r: import('@wharf/sdk').ScopedRouter) => void, extra: Partial<WharfPlugin> = {}): WharfPlugin {
  return definePlugin({
    id,
    kind: 'extension',
    version: '1.0.0',
    kernel: '^0.1.0',
    configSchema: Type.Object({}),
    register(ctx) {
      ctx.routes(routes);
    },
    ...extra,
  });
}

describe('http shell', () => {
  it('listens on port 0 and reports the real port in url and publicUrl', async () => {
    const { server } = await start();
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
    assert.equal(server.kernel.settings.publicUrl, server.url);
    const res = await request(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { status: 'ok' });
  });

  it('echoes a sane X-Request-Id, replaces an unsafe one, and logs one access line with it', async () => {
    const { server, logs } = await start();
    const echoed = await request(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'client-id.42' } });
    assert.equal(echoed.headers['x-request-id'], 'client-id.42');
    const replaced = await request(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'bad id\twith "junk"' } });
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const access = logs.lines().filter((l) => l.msg === 'request' && l.reqId === 'client-id.42');
    assert.equal(access.length, 1);
    assert.deepEqual(
      { method: access[0]?.method, path: access[0]?.path, status: access[0]?.status, bytes: access[0]?.bytes },
      { method: 'GET', path: '/healthz', status: 200, bytes: 15 },
    );
    assert.equal(typeof access[0]?.durationMs, 'number');
  });

  it('masks secret query values in the access log, and can be switched off', async () => {
    const { server, logs } = await start();
    await request(`${server.url}/healthz?token=abc123secret&n=5`);
    const line = logs.lines().find((l) => l.msg === 'request' && l.path === '/healthz' && l.query !== undefined);
    assert.equal(line?.query, 'token=[redacted]&n=5');

    const quiet = await start([], { log: { level: 'info', format: 'json', access: false } });
    await request(`${quiet.server.url}/healthz`);
    assert.equal(quiet.logs.lines().filter((l) => l.msg === 'request').length, 0);
  });

  it('maps errors: RegistryError as is, client errors to their status, anything else to 500 UNKNOWN', async () => {
    const plugin = ext('errs', (r) => {
      r.get('/denied', () => {
        throw new RegistryError('DENIED', 'not you', { detail: { why: 'test' }, headers: { 'X-Why': 'policy' } });
      });
      r.get('/client', () => {
        throw Object.assign(new Error('body is not JSON'), { status: 400, expose: true });
      });
      r.get('/crash', () => {
        throw new Error('db password is hunter2 at /srv/internal');
      });
    });
    const { server, logs } = await start([plugin]);
    const denied = await request(`${server.url}/_ext/errs/denied`);
    assert.equal(denied.status, 403);
    assert.equal(denied.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(denied.headers['x-why'], 'policy');
    assert.ok(denied.headers['x-request-id'], 'request id kept on errors');
    assert.deepEqual(JSON.parse(denied.body), { errors: [{ code: 'DENIED', message: 'not you', detail: { why: 'test' } }] });

    const client = await request(`${server.url}/_ext/errs/client`);
    assert.equal(client.status, 400);
    assert.deepEqual(JSON.parse(client.body), { errors: [{ code: 'UNKNOWN', message: 'body is not JSON' }] });

    const crash = await request(`${server.url}/_ext/errs/crash`);
    assert.equal(crash.status, 500);
    assert.deepEqual(JSON.parse(crash.body), { errors: [{ code: 'UNKNOWN', message: 'internal server error' }] });
    assert.ok(!crash.body.includes('hunter2'));
    const logged = logs.lines().find((l) => l.msg === 'request failed');
    assert.ok(logged, 'internal error logged');
    assert.match(String((logged.err as { stack?: string }).stack), /hunter2/);
  });

  it('mounts each extension under /_ext/<pluginId> with a narrow context', async () => {
    let seen: HttpContext | undefined;
    const plugin = ext('hello', (r) => {
      r.get('/greet/:name', (ctx) => {
        seen = ctx;
        ctx.set('X-Greeter', 'yes');
        ctx.body = { hello: ctx.params.name, requestId: ctx.state.requestId, who: ctx.state.principal.subject };
      });
    });
    const { server } = await start([plugin]);
    const res = await request(`${server.url}/_ext/hello/greet/world`, { headers: { 'X-Request-Id': 'rq-1' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-greeter'], 'yes');
    assert.deepEqual(JSON.parse(res.body), { hello: 'world', requestId: 'rq-1', who: 'anonymous' });
    assert.equal((seen as unknown as Record<string, unknown>).app, undefined, 'no koa app reachable');
    assert.equal((await request(`${server.url}/greet/world`)).status, 404);
  });

  it('readyz answers 503 when storage stops working, healthz stays 200', async () => {
    const { server, dir } = await start();
    assert.equal((await request(`${server.url}/readyz`)).status, 200);
    await rm(path.join(dir, 'uploads'), { recursive: true, force: true });
    await writeFile(path.join(dir, 'uploads'), 'not a directory');
    const res = await request(`${server.url}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(res.body), { status: 'unavailable', checks: { database: 'ok', storage: 'failing' } });
    assert.equal((await request(`${server.url}/healthz`)).status, 200);
  });

  it('graceful close: an in-flight request completes, new connections are refused, then close hooks run', async () => {
    const order: string[] = [];
    let arrived!: () => void;
    const arrivedP = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const releaseP = new Promise<void>((r) => (release = r));
    const plugin = definePlugin({
      id: 'slow',
      kind: 'extension',
      version: '1.0.0',
      kernel: '^0.1.0',
      configSchema: Type.Object({}),
      register(ctx) {
        ctx.routes((r) =>
          r.get('/wait', async (c) => {
            arrived();
            await releaseP;
            c.body = { done: true };
            order.push('response');
          }),
        );
        ctx.hooks.lifecycle.close.tapPromise('slow', async () => void order.push('close hook'));
      },
    });
    const { server } = await start([plugin]);
    const inflight = request(`${server.url}/_ext/slow/wait`);
    await arrivedP;
    const closing = server.close();
    await new Promise((r) => setTimeout(r, 50));
    // The listening socket is gone: a new connection is refused while the old request drains.
    const refused = await new Promise<string>((resolve) => {
      const sock = net.connect(server.port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve('connected');
      });
      sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
    assert.equal(server.kernel.state, 'ready', 'kernel still up while draining');
    release();
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { done: true });
    await closing;
    assert.equal(server.kernel.state, 'closed');
    assert.deepEqual(order, ['response', 'close hook']);
  });

  it('graceful close gives up on requests that outlive shutdownTimeoutMs', async () => {
    const plugin = ext('stuck', (r) => r.get('/forever', () => new Promise<void>(() => undefined)));
    const { server } = await start([plugin], { server: { shutdownTimeoutMs: 100 } });
    const inflight = request(`${server.url}/_ext/stuck/forever`).then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code ?? 'error',
    );
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await server.close();
    assert.ok(Date.now() - t0 < 2000, 'close did not wait for the stuck request');
    assert.equal(await inflight, 'ECONNRESET');
    assert.equal(server.kernel.state, 'closed');
  });

  it('idle keep-alive connections do not hold up close', async () => {
    const { server } = await start();
    const agent = new http.Agent({ keepAlive: true });
    const res = await request(`${server.url}/healthz`, { agent });
    assert.equal(res.status, 200);
    const t0 = Date.now();
    await server.close();
    assert.ok(Date.now() - t0 < 1000);
    agent.destroy();
  });
});
