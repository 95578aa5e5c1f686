import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KernelError } from '@wharf/sdk';
import { loadTokenKeys, PUBLIC_KEY_FILE, SIGNING_KEY_FILE } from './keys.js';
import { tokenSettings } from './test-support.js';
import { TokenService } from './token-service.js';

describe('token keys', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-keys-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('generates the signing key into the data directory (0600) with its public key, and reuses it on restart', async () => {
    const dataDir = path.join(dir, 'gen');
    const first = await loadTokenKeys({ settings: tokenSettings(), dataDir, baseDir: dir });
    const file = path.join(dataDir, 'token', SIGNING_KEY_FILE);
    assert.equal(first.generated, true);
    assert.equal(first.source, file);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(first.signing.alg, 'RS256');
    const pub = await readFile(path.join(dataDir, 'token', PUBLIC_KEY_FILE), 'utf8');
    assert.ok(createPublicKey(pub).equals(first.signing.publicKey));

    const second = await loadTokenKeys({ settings: tokenSettings(), dataDir, baseDir: dir });
    assert.equal(second.generated, false);
    assert.equal(second.signing.kid, first.signing.kid);
  });

  it('uses the RFC 7638 JWK thumbprint as kid and publishes every verification key', async () => {
    const keys = await loadTokenKeys({ settings: tokenSettings(), dataDir: path.join(dir, 'gen'), baseDir: dir });
    const jwk = keys.signing.publicKey.export({ format: 'jwk' });
    // RFC 7638: the required members in lexicographic order, no whitespace, SHA-256, base64url.
    const canonical = JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n });
    assert.equal(keys.signing.kid, createHash('sha256').update(canonical).digest('base64url'));
    assert.deepEqual(keys.jwks.keys.map((k) => [k.kid, k.alg, k.use, 'd' in k]), [[keys.signing.kid, 'RS256', 'sig', false]]);
  });

  it('generates ES256 and EdDSA keys when asked', async () => {
    for (const algorithm of ['ES256', 'EdDSA'] as const) {
      const keys = await loadTokenKeys({ settings: tokenSettings({ algorithm }), dataDir: path.join(dir, algorithm), baseDir: dir });
      assert.equal(keys.signing.alg, algorithm);
      const service = new TokenService({ settings: tokenSettings({ algorithm }), keys });
      const { token } = await service.issueAccessToken({ subject: 'a', kind: 'user', provider: 't', groups: [], admin: false }, []);
      assert.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).alg, algorithm);
      assert.equal((await service.verifyAccessToken(token)).principal.subject, 'a');
    }
  });

  it('refuses a signing key that does not match the configured algorithm, naming the key', async () => {
    const err = await loadTokenKeys({ settings: tokenSettings({ algorithm: 'ES256' }), dataDir: path.join(dir, 'gen'), baseDir: dir }).catch((e: unknown) => e);
    assert.ok(err instanceof KernelError);
    assert.equal(err.code, 'REG_ERR_CONFIG_INVALID');
    assert.match(err.message, /token\.algorithm: is ES256, but .*signing\.pem is a RS256 key/);
  });

  it('takes the signing key from a file or inline config, and refuses weak or unreadable keys', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFile(path.join(dir, 'ec.pem'), pem, { mode: 0o644 });
    const fromFile = await loadTokenKeys({ settings: tokenSettings({ algorithm: 'ES256', keys: { signingKeyFile: 'ec.pem', verificationKeyFiles: [] } }), dataDir: path.join(dir, 'unused'), baseDir: dir });
    assert.equal(fromFile.generated, false);
    assert.match(fromFile.warnings.join('\n'), /readable by group or others/);
    const inline = await loadTokenKeys({ settings: tokenSettings({ algorithm: 'ES256', keys: { signingKey: pem, verificationKeyFiles: [] } }), dataDir: path.join(dir, 'unused'), baseDir: dir });
    assert.equal(inline.source, 'config');
    assert.equal(inline.signing.kid, fromFile.signing.kid);

    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await assert.rejects(loadTokenKeys({ settings: tokenSettings({ keys: { signingKey: weak, verificationKeyFiles: [] } }), dataDir: dir, baseDir: dir }), /unsupported key/);
    await assert.rejects(
      loadTokenKeys({ settings: tokenSettings({ keys: { signingKeyFile: 'missing.pem', verificationKeyFiles: [] } }), dataDir: dir, baseDir: dir }),
      /token\.keys\.signingKeyFile: cannot read/,
    );
  });

  it('rotation: a token signed by an old key listed in verificationKeyFiles still verifies', async () => {
    const oldKeys = await loadTokenKeys({ settings: tokenSettings(), dataDir: path.join(dir, 'old'), baseDir: dir });
    const oldToken = (await new TokenService({ settings: tokenSettings(), keys: oldKeys }).issueAccessToken({ subject: 'ci', kind: 'robot', provider: 't', groups: [], admin: false }, [{ type: 'repository', name: 'a', actions: ['pull'] }])).token;

    const newSettings = tokenSettings({ algorithm: 'EdDSA', keys: { verificationKeyFiles: [path.join('old', 'token', PUBLIC_KEY_FILE)] } });
    const newKeys = await loadTokenKeys({ settings: newSettings, dataDir: path.join(dir, 'new'), baseDir: dir });
    assert.notEqual(newKeys.signing.kid, oldKeys.signing.kid);
    assert.deepEqual([...newKeys.verification.keys()], [newKeys.signing.kid, oldKeys.signing.kid]);
    const verified = await new TokenService({ settings: newSettings, keys: newKeys }).verifyAccessToken(oldToken);
    assert.equal(verified.principal.subject, 'ci');
    assert.equal(verified.principal.kind, 'robot');
    assert.deepEqual(verified.access, [{ type: 'repository', name: 'a', actions: ['pull'] }]);

    // Without the old key listed, the same token is refused.
    const alone = await loadTokenKeys({ settings: tokenSettings({ algorithm: 'EdDSA' }), dataDir: path.join(dir, 'new'), baseDir: dir });
    await assert.rejects(new TokenService({ settings: tokenSettings({ algorithm: 'EdDSA' }), keys: alone }).verifyAccessToken(oldToken), /unknown key id/);
  });

  it('reads verification keys from certificates and private keys too', async () => {
    const cert = path.join(dir, 'token.crt');
    const { execFileSync } = await import('node:child_process');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'cert.key'), '-out', cert, '-days', '1', '-subj', '/CN=wharf-test'], { stdio: 'ignore' });
    const keys = await loadTokenKeys({ settings: tokenSettings({ keys: { verificationKeyFiles: ['token.crt', 'cert.key'] } }), dataDir: path.join(dir, 'gen'), baseDir: dir });
    // The certificate and its private key are the same key: listed once.
    assert.equal(keys.verification.size, 2);
    assert.deepEqual([...keys.verification.values()].map((k) => k.alg), ['RS256', 'ES256']);
    await writeFile(path.join(dir, 'junk.pem'), 'not a key');
    await assert.rejects(
      loadTokenKeys({ settings: tokenSettings({ keys: { verificationKeyFiles: ['junk.pem'] } }), dataDir: path.join(dir, 'gen'), baseDir: dir }),
      /verificationKeyFiles\[0\]: holds no PEM block/,
    );
  });
});
