import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, basic, startApiRegistry, type ApiRegistry } from './support/api-kit.js';

/**
 * Every answer carries the browser protections (nosniff, no framing, a deny-all CSP, no
 * referrer): management API answers and errors, registry answers and errors, the token
 * endpoint, health checks. They matter once a web UI shares the origin.
 */

describe('security headers', () => {
  let reg: ApiRegistry;
  before(async () => (reg = await startApiRegistry('sqlite')));
  after(() => reg.close());

  function assertHeaders(res: Response, what: string): void {
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', what);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'.*frame-ancestors 'none'/, what);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
  }

  it('are on management API answers, successful or not', async () => {
    const admin = { authorization: basic('admin', ADMIN_PASSWORD) };
    const ok = await fetch(`${reg.url}/api/v1/users?page_size=1`, { headers: admin });
    assert.equal(ok.status, 200);
    assertHeaders(ok, 'GET /api/v1/users');
    assertHeaders(await fetch(`${reg.url}/api/v1/users`), '401 /api/v1/users');
    assertHeaders(await fetch(`${reg.url}/api/v1/nothing-here`, { headers: admin }), '404 /api/v1');
    assertHeaders(await fetch(`${reg.url}/api/v1/openapi.json`), 'openapi');
  });

  it('are on registry, token and health answers, errors included', async () => {
    assertHeaders(await fetch(`${reg.url}/v2/`), '401 /v2/');
    assertHeaders(await fetch(`${reg.url}/v2/`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } }), '200 /v2/');
    assertHeaders(await fetch(`${reg.url}/v2/a/manifests/.bad`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } }), '404 manifest');
    assertHeaders(await fetch(`${reg.url}/service/token?service=wharf`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } }), 'token');
    assertHeaders(await fetch(`${reg.url}/service/token?service=wharf`, { headers: { authorization: basic('admin', 'wrong') } }), '401 token');
    assertHeaders(await fetch(`${reg.url}/healthz`), 'healthz');
  });
});
