import assert from 'node:assert/strict';
import { createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '@wharf/sdk';
import { loadTokenKeys, type TokenKeys } from './keys.js';
import { tokenSettings } from './test-support.js';
import { REFRESH_TYP, TokenService } from './token-service.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Signs a JWT by hand with node:crypto, independent of the library under test. */
function forge(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

const alice: Principal = { subject: 'alice', kind: 'user', provider: 'static', groups: ['dev'], admin: false };
const access = [{ type: 'repository', name: 'alice/app', actions: ['pull', 'push'] }];

describe('token service', () => {
  let dir: string;
  let keys: TokenKeys;
  let clock = Date.UTC(2030, 0, 1);
  const now = () => clock;
  let service: TokenService;
  const claims = (over: Record<string, unknown> = {}) => {
    const t = Math.floor(clock / 1000);
    return { iss: 'wharf-token-issuer', sub: 'alice', aud: 'wharf', iat: t, nbf: t, exp: t + 300, jti: 'x', access, ...over };
  };
  const header = (over: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'JWT', kid: keys.signing.kid, ...over });

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-tokens-'));
    keys = await loadTokenKeys({ settings: tokenSettings(), dataDir: dir, baseDir: dir });
    service = new TokenService({ settings: tokenSettings(), keys, now });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('issues access tokens with the spec claims and a kid, and verifies them', async () => {
    const issued = await service.issueAccessToken(alice, access);
    const [h, p] = issued.token.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()) as Record<string, unknown>);
    assert.deepEqual(h, { alg: 'RS256', typ: 'JWT', kid: keys.signing.kid });
    assert.deepEqual(Object.keys(p!).sort(), ['access', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'sub', 'wharf']);
    assert.equal(p!.exp, Number(p!.iat) + 300);
    assert.equal(issued.expiresIn, 300);
    const verified = await service.verifyAccessToken(issued.token);
    assert.equal(verified.principal.subject, 'alice');
    assert.deepEqual(verified.access, access);
  });

  it('accepts a token forged with the right key by hand (the format is the spec\'s, not the library\'s)', async () => {
    const v = await service.verifyAccessToken(forge(header(), claims(), keys.signing.privateKey));
    assert.equal(v.principal.subject, 'alice');
    assert.equal(v.principal.admin, false);
  });

  it('issues anonymous tokens with an empty subject', async () => {
    const anon = await service.issueAccessToken({ subject: 'anonymous', kind: 'anonymous', provider: 'kernel', groups: [], admin: false }, []);
    const v = await service.verifyAccessToken(anon.token);
    assert.equal(v.principal.kind, 'anonymous');
    assert.equal(JSON.parse(Buffer.from(anon.token.split('.')[1]!, 'base64url').toString()).sub, '');
  });

  const attacks: [string, () => string, RegExp][] = [
    ['alg none', () => `${b64(header({ alg: 'none' }))}.${b64(claims())}.`, /algorithm none not allowed/],
    [
      'HS256 signed with the public key',
      () => {
        const input = `${b64(header({ alg: 'HS256' }))}.${b64(claims())}`;
        const secret = keys.signing.publicKey.export({ type: 'spki', format: 'pem' });
        return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      },
      /algorithm HS256 not allowed/,
    ],
    ['another audience', () => forge(header(), claims({ aud: 'other-registry' }), keys.signing.privateKey), /claim validation failed/],
    ['another issuer', () => forge(header(), claims({ iss: 'evil' }), keys.signing.privateKey), /claim validation failed/],
    ['expired beyond the leeway', () => forge(header(), claims({ exp: Math.floor(clock / 1000) - 31 }), keys.signing.privateKey), /expired/],
    ['not yet valid', () => forge(header(), claims({ nbf: Math.floor(clock / 1000) + 120 }), keys.signing.privateKey), /claim validation failed/],
    ['without exp', () => forge(header(), { ...claims(), exp: undefined }, keys.signing.privateKey), /claim validation failed/],
    [
      'a tampered payload',
      () => {
        const [h, , s] = forge(header(), claims(), keys.signing.privateKey).split('.');
        return `${h}.${b64(claims({ access: [{ type: 'repository', name: 'bob/app', actions: ['push'] }] }))}.${s}`;
      },
      /signature verification failed/,
    ],
    ['an unknown kid', () => forge(header({ kid: 'nope' }), claims(), keys.signing.privateKey), /unknown key id/],
    ['no kid', () => forge(header({ kid: undefined }), claims(), keys.signing.privateKey), /no key id/],
    ['a malformed access claim', () => forge(header(), claims({ access: 'everything' }), keys.signing.privateKey), /malformed access claim/],
    ['garbage', () => 'not.a.jwt', /malformed/],
  ];
  for (const [name, make, reason] of attacks) {
    it(`refuses ${name}`, async () => {
      await assert.rejects(service.verifyAccessToken(make()), (err: Error & { reason?: string }) => {
        assert.equal(err.name, 'TokenError');
        assert.match(err.reason ?? '', reason);
        return true;
      });
    });
  }

  it('tolerates clock skew within the leeway', async () => {
    const t = Math.floor(clock / 1000);
    const early = forge(header(), claims({ iat: t + 20, nbf: t + 20, exp: t + 320 }), keys.signing.privateKey);
    assert.equal((await service.verifyAccessToken(early)).principal.subject, 'alice');
    const late = forge(header(), claims({ exp: t - 29 }), keys.signing.privateKey);
    assert.equal((await service.verifyAccessToken(late)).principal.subject, 'alice');
  });

  it('keeps refresh and access tokens apart', async () => {
    const refresh = await service.issueRefreshToken(alice);
    assert.equal(JSON.parse(Buffer.from(refresh.split('.')[0]!, 'base64url').toString()).typ, REFRESH_TYP);
    await assert.rejects(service.verifyAccessToken(refresh), /invalid token/);
    const p = await service.verifyRefreshToken(refresh, 'wharf');
    assert.deepEqual([p.subject, p.kind, p.provider], ['alice', 'user', 'static']);
    await assert.rejects(service.verifyRefreshToken(refresh, 'other-service'), /claim validation failed/);
    const { token } = await service.issueAccessToken(alice, access);
    await assert.rejects(service.verifyRefreshToken(token, 'wharf'), /invalid token/);
    // A refresh token forged with the access typ but the refresh audience is still no access token.
    const forged = forge(header(), claims({ aud: 'refresh:wharf' }), keys.signing.privateKey);
    await assert.rejects(service.verifyAccessToken(forged), /claim validation failed/);
  });

  it('caches verification only until the token expires', async () => {
    const local = new TokenService({ settings: tokenSettings({ leewaySeconds: 0 }), keys, now });
    const { token } = await local.issueAccessToken(alice, access);
    assert.equal((await local.verifyAccessToken(token)).principal.subject, 'alice');
    assert.equal((await local.verifyAccessToken(token)).principal.subject, 'alice');
    clock += 301_000;
    await assert.rejects(local.verifyAccessToken(token), /expired/);
  });
});
