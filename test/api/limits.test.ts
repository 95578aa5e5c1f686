import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOciError } from './support/client.js';
import { startTestRegistry, testDatabaseNames, type TestRegistry } from './support/server.js';
import { fetchToken, startTokenRegistry, type TokenRegistry } from './support/token-kit.js';

/**
 * What one caller may hold, bounded and configurable: scopes per token request
 * (`token.maxScopesPerRequest`) and open blob uploads per user or client address and per
 * repository (`registry.maxOpenUploadsPerUser`, `registry.maxOpenUploadsPerRepository`).
 */

describe('limits: scopes per token request', () => {
  let reg: TokenRegistry;
  before(async () => (reg = await startTokenRegistry({ maxScopesPerRequest: 20 })));
  after(() => reg.close());

  const scopes = (n: number) => Array.from({ length: n }, (_, i) => `repository:alice/r${i}:pull`);

  it('grants up to the bound and refuses more with a clear 400', async () => {
    const ok = await fetchToken(reg.url, { user: 'alice', scopes: scopes(20) });
    assert.equal(ok.status, 200);
    await assertOciError(await fetchToken(reg.url, { user: 'alice', scopes: scopes(21) }), 400, 'UNSUPPORTED');
    // Packed into one parameter, space-separated, they count the same; the OAuth form too.
    await assertOciError(await fetchToken(reg.url, { user: 'alice', scopes: [scopes(21).join(' ')] }), 400, 'UNSUPPORTED');
    const form = new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'alice-pw', service: 'wharf' });
    for (const scope of scopes(300)) form.append('scope', scope);
    const posted = await fetch(`${reg.url}/service/token`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const text = await posted.text();
    assert.equal(posted.status, 400, text);
    assert.match(text, /too many scopes in one token request: 300 \(at most 20, token\.maxScopesPerRequest\)/);
  });
});

for (const database of testDatabaseNames()) {
  describe(`limits: open uploads (${database})`, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startTestRegistry(database, { server: { trustProxy: true }, registry: { maxOpenUploadsPerUser: 3, maxOpenUploadsPerRepository: 5 } });
    });
    after(() => reg.close());

    const open = (repo: string, ip: string) => reg.client.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { 'x-forwarded-for': ip } });

    it('bounds the uploads one client holds open, and frees a place when one is cancelled', async () => {
      const locations: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await open('limits/one', '192.0.2.1');
        assert.equal(res.status, 202);
        locations.push(res.headers.get('location') ?? '');
      }
      const refused = await open('limits/two', '192.0.2.1');
      assert.equal(refused.headers.get('retry-after'), '60');
      await assertOciError(refused, 429, 'TOOMANYREQUESTS');
      assert.equal((await open('limits/two', '192.0.2.2')).status, 202, 'another client is not affected');
      assert.equal((await reg.client.fetch(locations[0]!, { method: 'DELETE', headers: { 'x-forwarded-for': '192.0.2.1' } })).status, 204);
      assert.equal((await open('limits/two', '192.0.2.1')).status, 202);
    });

    it('bounds the uploads open in one repository, whoever opened them', async () => {
      for (let i = 0; i < 5; i++) assert.equal((await open('limits/busy', `198.51.100.${i + 1}`)).status, 202);
      await assertOciError(await open('limits/busy', '198.51.100.99'), 429, 'TOOMANYREQUESTS');
      assert.equal((await open('limits/quiet', '198.51.100.99')).status, 202);
    });
  });
}
