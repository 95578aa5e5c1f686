import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OciResponseError, pullBlob, pullManifest, pushImage, startTestRegistry, tinyImage, type TestRegistry } from './index.js';

/** startTestRegistry serves the real OCI API; the image fixtures go through it byte for byte. */

const MANIFEST_DIGEST = 'sha256:da0344549643e1a171fa1b11512ee9349dc67b84adc3116138d27ac181f890bd';

describe('startTestRegistry (open)', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry();
  });
  after(() => registry.close());

  it('listens on a free port of 127.0.0.1', () => {
    assert.match(registry.host, /^127\.0\.0\.1:\d+$/);
    assert.equal(registry.url, `http://${registry.host}`);
  });

  it('takes a pushed tinyImage and serves it back by tag and by digest', async () => {
    const image = tinyImage();
    const pushed = await pushImage(registry.url, 'library/tiny', 'v1', image);
    assert.equal(pushed.digest, MANIFEST_DIGEST);
    assert.equal(pushed.location, `${registry.url}/v2/library/tiny/manifests/${MANIFEST_DIGEST}`);
    for (const reference of ['v1', MANIFEST_DIGEST]) {
      const pulled = await pullManifest(registry.url, 'library/tiny', reference);
      assert.equal(pulled.digest, MANIFEST_DIGEST);
      assert.equal(pulled.mediaType, image.manifest.mediaType);
      assert.ok(pulled.bytes.equals(image.manifest.bytes));
    }
    assert.ok((await pullBlob(registry.url, 'library/tiny', image.layer.digest)).equals(image.layer.bytes));
  });

  it('throws OciResponseError with the status and OCI code of a refusal', async () => {
    await assert.rejects(pullManifest(registry.url, 'library/tiny', 'missing'), (err: unknown) => {
      assert.ok(err instanceof OciResponseError);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'MANIFEST_UNKNOWN');
      return true;
    });
  });
});

describe('startTestRegistry (secure)', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({ config: { auth: [{ db: {} }], rbac: { projects: {} }, token: { enabled: true } } });
  });
  after(async () => {
    await registry.close();
    await assert.rejects(stat(registry.dataDir), { code: 'ENOENT' }, 'close removed the temp data dir');
    await assert.rejects(fetch(`${registry.url}/v2/`), 'nothing listens any more');
  });

  it('refuses an anonymous push and takes one with the bootstrapped admin password', async () => {
    await assert.rejects(pushImage(registry.url, 'library/tiny', 'v1', tinyImage()), (err: unknown) => {
      assert.ok(err instanceof OciResponseError);
      assert.equal(err.status, 401);
      assert.equal(err.code, 'UNAUTHORIZED');
      return true;
    });
    const password = process.env.WHARF_ADMIN_PASSWORD || (await readFile(path.join(registry.dataDir, 'admin-password'), 'utf8')).trim();
    const authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    const pushed = await pushImage(registry.url, 'library/tiny', 'v1', tinyImage(), { authorization });
    assert.equal(pushed.digest, MANIFEST_DIGEST);
    assert.equal((await pullManifest(registry.url, 'library/tiny', 'v1', { authorization })).digest, MANIFEST_DIGEST);
  });
});
