import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import Koa from 'koa';
import type { AwilixContainer } from 'awilix';
import { coreServices, createServiceRef, definePlugin, KernelError, Type, type Principal } from '@wharf/sdk';
import { loadConfig } from '../config/load-config.js';
import { requestId } from '../http/middleware/request-id.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';
import { baseConfig, captureLogs, tempDir } from '../kernel/test-support.js';
import { scopePerRequest } from './scope-per-request.js';
import { serviceName } from './service-registry.js';

/** One awilix scope per request, over real HTTP: request values in, scoped services disposed. */

interface RequestContext {
  id: string;
  subject: string;
}

const requestCtxRef = createServiceRef<RequestContext>({ id: 'test.request-context', lifetime: 'scoped' });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function bootWith(plugin: ReturnType<typeof definePlugin>): Promise<Kernel> {
  const tmp = await tempDir('wharf-scope-');
  const loaded = await loadConfig({ config: baseConfig(tmp.dir, { extensions: { [plugin.id]: {} } }), env: {}, plugins: [plugin] });
  const kernel = createKernel(loaded, { logDestination: captureLogs().stream });
  cleanups.push(async () => {
    await kernel.close();
    await tmp.cleanup();
  });
  await kernel.boot();
  return kernel;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('scopePerRequest', () => {
  it('gives each request its own scope with requestId, principal and requestLog, and disposes it', async () => {
    const disposed: RequestContext[] = [];
    const plugin = definePlugin({
      id: 'scoped-ctx',
      kind: 'extension',
      version: '1.0.0',
      kernel: '^0.1.0',
      configSchema: Type.Object({}),
      register(ctx) {
        ctx.provide(requestCtxRef, {
          factory: () => ({ id: 'filled-below', subject: 'x' }),
          dispose: (value) => void disposed.push(value),
        });
      },
    });
    const kernel = await bootWith(plugin);

    const app = new Koa();
    app.use(requestId(kernel.logger) as Koa.Middleware);
    app.use(scopePerRequest(kernel.services.container) as Koa.Middleware);
    app.use(async (ctx) => {
      const state = ctx.state as { principal: Principal; container: AwilixContainer };
      // As auth middleware does after the scope exists: the scope must see the new principal.
      state.principal = { subject: 'bob', kind: 'user', provider: 't', groups: [], admin: false };
      const scope = state.container;
      const first = scope.resolve<RequestContext>(serviceName(requestCtxRef.id));
      const again = scope.resolve<RequestContext>(serviceName(requestCtxRef.id));
      first.id = scope.resolve<string>('requestId');
      first.subject = scope.resolve<Principal>('principal').subject;
      ctx.body = {
        sameWithinRequest: first === again,
        id: first.id,
        subject: first.subject,
        hasLog: typeof scope.resolve<{ info: unknown }>('requestLog').info === 'function',
        settings: scope.resolve<{ dataDir: string }>(serviceName(coreServices.settings.id)).dataDir === kernel.config.dataDir,
      };
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;

    const a = JSON.parse((await get(port, '/a')).body) as Record<string, unknown>;
    const b = JSON.parse((await get(port, '/b')).body) as Record<string, unknown>;
    assert.deepEqual({ ...a, id: undefined }, { sameWithinRequest: true, id: undefined, subject: 'bob', hasLog: true, settings: true });
    assert.notEqual(a.id, b.id);
    assert.equal(disposed.length, 2, 'one scoped instance per request, each disposed');
    assert.deepEqual(disposed.map((d) => d.id), [a.id, b.id]);
  });

  it('refuses at boot a singleton that depends on a request-scoped service', async () => {
    const bad = definePlugin({
      id: 'leaky',
      kind: 'extension',
      version: '1.0.0',
      kernel: '^0.1.0',
      configSchema: Type.Object({}),
      register(ctx) {
        ctx.provide(requestCtxRef, { factory: () => ({ id: '', subject: '' }) });
        ctx.provide(createServiceRef<string>({ id: 'test.leak' }), { deps: { rc: requestCtxRef }, factory: ({ rc }) => rc.id });
      },
    });
    await assert.rejects(bootWith(bad), (err: unknown) => {
      assert.ok(err instanceof KernelError);
      assert.equal(err.plugin, 'leaky');
      assert.match(err.message, /singleton test\.leak .* cannot depend on request-scoped test\.request-context/);
      return true;
    });
  });
});

describe('serviceName', () => {
  it('maps ref ids to stable camelCase names', () => {
    assert.equal(serviceName('core.storage'), 'coreStorage');
    assert.equal(serviceName('acme-x.token-signer'), 'acmeXTokenSigner');
  });
});
