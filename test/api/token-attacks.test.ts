import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer } from '@wharf/core';
import { assertOciError } from './support/client.js';
import { OPEN_REGISTRY } from './support/server.js';
import { b64, bearer, claimsOf, forgeWithDataDirKey, getToken, pushImage, startTokenRegistry, type TokenRegistry } from './support/token-kit.js';

/**
 * Tokens that must not open anything, sent over real HTTP to a registry with token auth:
 * each is crafted from a real token or signed by hand with the registry's own data-dir key.
 * Then key rotation across two registries, and the `token` config's limits.
 */

describe('token auth: attacks', () => {
  let reg: TokenRegistry;
  let kid: string;
  let good: string;
  const repo = 'alice/secret';
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({
    iss: 'wharf-token-issuer',
    sub: 'alice',
    aud: 'wharf',
    iat: now(),
    nbf: now(),
    exp: now() + 300,
    jti: 'forged',
    access: [{ type: 'repository', name: repo, actions: ['pull', 'push'] }],
    ...over,
  });
  const header = (over: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'JWT', kid, ...over });

  before(async () => {
    reg = await startTokenRegistry();
    good = (await getToken(reg.url, { user: 'alice', scopes: [`repository:${repo}:pull,push`] })).token;
    kid = JSON.parse(Buffer.from(good.split('.')[0]!, 'base64url').toString()).kid as string;
    assert.equal(await pushImage(reg.url, repo, 'v1', bearer(good)), 201);
  });
  after(() => reg.close());

  const pull = (token: string) => fetch(`${reg.url}/v2/${repo}/manifests/v1`, { headers: { authorization: bearer(token) } });

  async function assertRefused(token: string): Promise<void> {
    const res = await pull(token);
    await assertOciError(res, 401, 'UNAUTHORIZED');
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="repository:alice\/secret:pull",error="invalid_token"$/);
  }

  it('accepts the real token and one signed by hand with the data-dir key (the controls)', async () => {
    assert.equal((await pull(good)).status, 200);
    assert.equal((await pull(await forgeWithDataDirKey(reg.dataDir, header(), claims()))).status, 200);
  });

  it('refuses alg: none', async () => {
    await assertRefused(`${b64(header({ alg: 'none' }))}.${b64(claims())}.`);
    await assertRefused(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`);
  });

  it('refuses HS256 signed with the public key', async () => {
    const publicPem = await readFile(path.join(reg.dataDir, 'token', 'signing.pub.pem'));
    const input = `${b64(header({ alg: 'HS256' }))}.${b64(claims())}`;
    await assertRefused(`${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`);
    // The JWKS form of the public key as the HMAC secret: refused too.
    const jwks = (await (await fetch(`${reg.url}/.well-known/jwks.json`)).json()) as { keys: Record<string, string>[] };
    const input2 = `${b64(header({ alg: 'HS256' }))}.${b64(claims())}`;
    await assertRefused(`${input2}.${createHmac('sha256', JSON.stringify(jwks.keys[0])).update(input2).digest('base64url')}`);
  });

  it('refuses another audience or issuer, even when signed with the right key', async () => {
    await assertRefused(await forgeWithDataDirKey(reg.dataDir, header(), claims({ aud: 'other-registry' })));
    await assertRefused(await forgeWithDataDirKey(reg.dataDir, header(), claims({ iss: 'someone-else' })));
  });

  it('refuses expired tokens (past the leeway) and tokens not yet valid', async () => {
    await assertRefused(await forgeWithDataDirKey(reg.dataDir, header(), claims({ iat: now() - 600, nbf: now() - 600, exp: now() - 60 })));
    await assertRefused(await forgeWithDataDirKey(reg.dataDir, header(), claims({ nbf: now() + 600, exp: now() + 900 })));
    // Within the 30 s leeway a just-expired token still works (clock skew between nodes).
    assert.equal((await pull(await forgeWithDataDirKey(reg.dataDir, header(), claims({ exp: now() - 5 })))).status, 200);
  });

  it('refuses a tampered payload', async () => {
    const other = await getToken(reg.url, { user: 'alice', scopes: ['repository:alice/other:pull'] });
    const [h, , s] = other.token.split('.');
    const payload = { ...claimsOf(other.token), access: [{ type: 'repository', name: repo, actions: ['pull'] }] };
    await assertRefused(`${h}.${b64(payload)}.${s}`);
    // Untouched, that token names another repository and is refused for this one.
    const res = await pull(other.token);
    await assertOciError(res, 401, 'UNAUTHORIZED');
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"$/);
  });

  it('refuses an unknown kid, a missing kid and garbage', async () => {
    await assertRefused(await forgeWithDataDirKey(reg.dataDir, header({ kid: 'someone-elses-key' }), claims()));
    await assertRefused(await forgeWithDataDirKey(reg.dataDir, header({ kid: undefined }), claims()));
    await assertRefused('definitely-not-a-jwt');
  });

  it('publishes the verification key as a JWK Set under both paths', async () => {
    for (const p of ['/service/jwks', '/.well-known/jwks.json']) {
      const res = await fetch(reg.url + p);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { keys: { kid: string; alg: string; kty: string; d?: string }[] };
      assert.deepEqual(body.keys.map((k) => [k.kid, k.alg, k.kty, k.d]), [[kid, 'RS256', 'RSA', undefined]]);
    }
  });
});

describe('token auth: keys and config', () => {
  it('generates the key 0600 on first start, keeps it across restarts, and honours rotation across registries', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-token-rot-'));
    try {
      const first = await startTokenRegistry({}, path.join(dir, 'a'));
      const old = await getToken(first.url, { user: 'alice', scopes: ['repository:alice/app:pull'] });
      await first.close();
      assert.equal((await stat(path.join(dir, 'a', 'token', 'signing.pem'))).mode & 0o777, 0o600);

      const again = await startTokenRegistry({}, path.join(dir, 'a'));
      try {
        assert.equal((await fetch(`${again.url}/v2/alice/app/tags/list`, { headers: { authorization: bearer(old.token) } })).status, 404, 'same key after restart');
      } finally {
        // A failed assertion must not leave a server running (the file would never end).
        await again.close();
      }

      // A new registry (new key, ES256) that lists the old public key still accepts old tokens.
      const oldPub = path.join(dir, 'a', 'token', 'signing.pub.pem');
      const rotated = await startTokenRegistry({ algorithm: 'ES256', keys: { verificationKeyFiles: [oldPub] } }, path.join(dir, 'b'));
      const unrelated = await startTokenRegistry({}, path.join(dir, 'c'));
      try {
        assert.equal((await fetch(`${rotated.url}/v2/alice/app/tags/list`, { headers: { authorization: bearer(old.token) } })).status, 404);
        const fresh = await getToken(rotated.url, { user: 'alice', scopes: ['repository:alice/app:pull'] });
        assert.equal(JSON.parse(Buffer.from(fresh.token.split('.')[0]!, 'base64url').toString()).alg, 'ES256');
        const jwks = (await (await fetch(`${rotated.url}/service/jwks`)).json()) as { keys: { alg: string }[] };
        assert.deepEqual(jwks.keys.map((k) => k.alg), ['ES256', 'RS256']);
        assert.equal((await fetch(`${unrelated.url}/v2/alice/app/tags/list`, { headers: { authorization: bearer(old.token) } })).status, 401);
      } finally {
        await rotated.close();
        await unrelated.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses token lifetimes under 60 s, and leaves the registry as it was when token auth is off', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-token-cfg-'));
    try {
      await assert.rejects(
        startServer({ listen: '127.0.0.1:0', dataDir: dir, overrides: { log: { level: 'silent' }, token: { enabled: true, lifetimeSeconds: 59 } } }),
        /token\.lifetimeSeconds/,
      );
      const off = await startServer({ listen: '127.0.0.1:0', dataDir: dir, overrides: { log: { level: 'silent' }, ...OPEN_REGISTRY } });
      try {
        assert.equal((await fetch(`${off.url}/v2/`)).status, 200);
        assert.equal((await fetch(`${off.url}/service/token?service=wharf`)).status, 404);
        await assert.rejects(stat(path.join(dir, 'token')), /ENOENT/);
      } finally {
        await off.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
