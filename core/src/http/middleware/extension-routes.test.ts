import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKernelError, type ScopedRouter } from '@wharf/sdk';
import { extensionRoutes } from './extension-routes.js';

/** `getTopLevel`: the paths a plugin may claim at the root, and the ones it may not. */

const ok = () => undefined;
const claim = (plugin: string, path: string) => ({ plugin, mount: (r: ScopedRouter) => r.getTopLevel(path, ok) });

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isKernelError(err), String(err));
    assert.equal(err.code, 'REG_ERR_PLUGIN_INIT');
    return err.message;
  }
  assert.fail('expected a refusal');
}

describe('extension routes: top-level paths', () => {
  it('lets a plugin claim one literal top-level path, mounted after its prefixed routes', () => {
    const mws = extensionRoutes([claim('metrics', '/metrics')]);
    assert.equal(mws.length, 4, 'the prefixed router (routes, methods) and the top-level router (routes, methods)');
    assert.equal(extensionRoutes([{ plugin: 'x', mount: () => undefined }]).length, 2, 'no top-level router when nobody claims one');
  });

  it('refuses kernel paths, nested or malformed paths, and a path another plugin claimed, naming the plugin', () => {
    for (const path of ['/v2', '/api', '/service', '/_ext', '/healthz', '/readyz']) {
      assert.match(refusal(() => extensionRoutes([claim('greedy', path)])), /plugin "greedy".*belongs to the kernel/);
    }
    for (const path of ['/a/b', 'metrics', '/', '/Metrics', '/:id', '/*']) {
      assert.match(refusal(() => extensionRoutes([claim('odd', path)])), /plugin "odd".*one literal segment/);
    }
    assert.match(refusal(() => extensionRoutes([claim('one', '/metrics'), claim('two', '/metrics')])), /plugin "two".*already served by plugin "one"/);
  });
});

describe('extension routes: the fallback route', () => {
  const fallback = (plugin: string) => ({ plugin, mount: (r: ScopedRouter) => r.getFallback((ctx) => void (ctx.body = `page of ${plugin}`)) });
  /** Runs the middleware chain on a bare context, as koa would for an unmatched request. */
  async function run(mws: ReturnType<typeof extensionRoutes>, method: string, path: string) {
    const ctx = { method, path, status: 404, body: undefined as unknown, params: {}, query: {}, headers: {}, state: {}, set() {} };
    const chain = async (i: number): Promise<void> => {
      const mw = mws[i];
      if (mw) await mw(ctx as never, () => chain(i + 1));
    };
    await chain(0);
    return ctx.body;
  }

  it('answers unmatched GETs outside the kernel prefixes and claimed paths, and nothing else', async () => {
    const mws = extensionRoutes([claim('metrics', '/metrics'), fallback('ui')]);
    assert.equal(await run(mws, 'GET', '/'), 'page of ui');
    assert.equal(await run(mws, 'GET', '/projects/library'), 'page of ui');
    assert.equal(await run(mws, 'HEAD', '/projects'), 'page of ui');
    for (const path of ['/v2/x/manifests/y', '/api/v1/nope', '/service/token', '/_ext/ui/x', '/healthz', '/readyz', '/metrics/x']) {
      assert.equal(await run(mws, 'GET', path), undefined, path);
    }
    assert.equal(await run(mws, 'POST', '/projects'), undefined, 'only GET and HEAD');
  });

  it('refuses a second claim, naming both plugins', () => {
    assert.match(refusal(() => extensionRoutes([fallback('one'), fallback('two')])), /plugin "two".*fallback route is already served by plugin "one"/);
  });
});
