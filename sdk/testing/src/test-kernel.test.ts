import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { coreServices, createServiceRef, definePlugin, KernelError, Type, type KernelSettings } from '@wharf/sdk';
import { createTestKernel } from './index.js';

/** createTestKernel boots the real kernel: SQLite and fs storage in a temp dir, no HTTP. */

const info = { requestId: 't', ip: '127.0.0.1', method: 'GET', path: '/v2/', userAgent: undefined };
const settingsEcho = createServiceRef<{ settings: KernelSettings }>({ id: 'echo.settings' });

const echo = definePlugin({
  id: 'echo',
  kind: 'extension',
  version: '1.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({ user: Type.String({ default: 'tester' }) }, { additionalProperties: false }),
  register(ctx) {
    ctx.hooks.auth.authenticate.tapPromise('echo', async (credentials) =>
      credentials.kind === 'basic' && credentials.username === ctx.config.user
        ? { subject: ctx.config.user, kind: 'user', provider: 'echo', admin: false, groups: [] }
        : undefined,
    );
    ctx.provide(settingsEcho, { deps: { settings: coreServices.settings }, factory: ({ settings }) => ({ settings }) });
  },
});

describe('createTestKernel', () => {
  it('boots an open registry on fs and SQLite in a temp dir, and removes the dir at close', async () => {
    const kernel = await createTestKernel();
    assert.equal(kernel.get(coreServices.storage).name, 'fs');
    assert.equal(kernel.config.token.enabled, false);
    assert.deepEqual(kernel.config.auth, []);
    assert.deepEqual(kernel.config.rbac, {});
    assert.equal(kernel.config.dataDir, kernel.dataDir);
    assert.ok((await stat(path.join(kernel.dataDir, 'wharf.db'))).isFile());
    await Promise.all([kernel.close(), kernel.close()]);
    await assert.rejects(stat(kernel.dataDir), { code: 'ENOENT' });
  });

  it('configures plugins given in code with {} and exposes their taps and services', async () => {
    const kernel = await createTestKernel({ plugins: [echo] });
    try {
      const principal = await kernel.hooks.auth.authenticate.promise({ kind: 'basic', username: 'tester', password: 'x' }, info);
      assert.equal(principal?.provider, 'echo');
      assert.equal(await kernel.hooks.auth.authenticate.promise({ kind: 'basic', username: 'other', password: 'x' }, info), undefined);
      assert.equal(kernel.get(settingsEcho).settings.dataDir, kernel.dataDir);
    } finally {
      await kernel.close();
    }
  });

  it('takes a plugin section from the config, and keeps a data dir it did not make', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-kept-'));
    try {
      const kernel = await createTestKernel({ plugins: [echo], config: { extensions: { echo: { user: 'carol' } } }, dataDir });
      const principal = await kernel.hooks.auth.authenticate.promise({ kind: 'basic', username: 'carol', password: 'x' }, info);
      assert.equal(principal?.subject, 'carol');
      await kernel.close();
      assert.ok((await stat(path.join(dataDir, 'wharf.db'))).isFile(), 'the given data dir is kept');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('throws boot errors as the kernel does', async () => {
    await assert.rejects(createTestKernel({ config: { extensions: { nope: {} } } }), (err: unknown) => {
      assert.ok(err instanceof KernelError);
      assert.equal(err.code, 'REG_ERR_PLUGIN_NOT_FOUND');
      return true;
    });
    await assert.rejects(createTestKernel({ plugins: [echo], config: { extensions: { echo: { usr: 'typo' } } } }), /extensions\.echo\.usr: is not a known key/);
  });
});
