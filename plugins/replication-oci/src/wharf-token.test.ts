import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isReplicationTargetError } from '@wharf/sdk';
import { runReplicationTargetConformance } from '@wharf/sdk-testing';
import { OciTarget } from './index.js';
import { startTokenWharf, type WharfHandle } from './test-support/wharf.js';

// The adapter against a real Wharf with token auth and local users: Bearer challenges, tokens
// from /service/token per scope, the referrers API and tag deletion.

let wharf: WharfHandle;
const plain = { username: 'pat', password: 'Pat-Passw0rd-1' };

before(async () => {
  wharf = await startTokenWharf();
  await wharf.createUser(plain.username, plain.password);
});

after(async () => {
  await wharf?.close();
});

runReplicationTargetConformance({
  name: 'oci adapter → Wharf (token auth, db users)',
  endpoint: () => ({ name: 'wharf', type: 'oci', url: wharf.url, credentials: wharf.admin }),
  open: (endpoint) => new OciTarget(endpoint),
  authenticates: true,
  referrers: 'api',
  deletesTags: true,
});

describe('oci adapter → Wharf: scopes and accounts', () => {
  it('asks for one token per scope set and reuses it, logging scopes but never the token or password', async () => {
    const lines: string[] = [];
    const logger = { debug: (obj: unknown, msg: string) => void lines.push(`${msg} ${JSON.stringify(obj)}`) };
    const target = new OciTarget(
      { name: 'wharf-cached', type: 'oci', url: wharf.url, credentials: wharf.admin },
      { logger: logger as never },
    );
    try {
      await target.ping();
      for (let i = 0; i < 5; i++) {
        assert.equal(await target.getManifest('cache/app', 'v1'), undefined);
        assert.equal(await target.hasBlob('cache/app', `sha256:${'0'.repeat(64)}`), false);
      }
      assert.deepEqual(await target.listTags('cache/app'), []);
      await target.writeBlob('cache/app', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0, Readable.from([]));
      assert.equal(await target.mountBlob('cache/other', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'cache/app'), true);
      const scopes = lines.map((line) => (JSON.parse(line.slice(line.indexOf('{'))) as { scopes: string }).scopes);
      assert.deepEqual(scopes, [
        '',
        'repository:cache/app:pull',
        'repository:cache/app:pull,push',
        'repository:cache/app:pull repository:cache/other:pull,push',
      ]);
      for (const line of lines) {
        assert.ok(!line.includes(wharf.admin.password), 'no password in logs');
        assert.ok(!/eyJ[\w-]+\.[\w-]+/.test(line), 'no JWT in logs');
      }
    } finally {
      await target.close();
    }
  });

  it('gets the catalog for an administrator only: a plain user is DENIED, not UNAUTHORIZED', async () => {
    const target = new OciTarget({ name: 'wharf-pat', type: 'oci', url: wharf.url, credentials: plain });
    try {
      await target.ping();
      await assert.rejects(
        (async () => {
          for await (const name of target.listRepositories()) assert.fail(`listed ${name}`);
        })(),
        (err: unknown) => isReplicationTargetError(err) && err.code === 'DENIED' && err.details.status === 401 && !err.retryable,
      );
    } finally {
      await target.close();
    }
  });

  it('works anonymously with anonymous tokens where the registry allows it', async () => {
    const target = new OciTarget({ name: 'wharf-anonymous', type: 'oci', url: wharf.url });
    try {
      await target.ping();
      assert.deepEqual(await target.listTags('anonymous/none'), []);
      await assert.rejects(
        (async () => {
          for await (const name of target.listRepositories()) assert.fail(`listed ${name}`);
        })(),
        (err: unknown) => isReplicationTargetError(err) && err.code === 'UNAUTHORIZED',
      );
    } finally {
      await target.close();
    }
  });
});
