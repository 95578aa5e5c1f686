import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KernelError, coreServices, isWharfPlugin, type ServiceDeps, type ServiceFactory, type ServiceRef } from '@wharf/sdk';
import { captureLogs, createTestKernel, loadTestConfig, pushBlob, startTestRegistry, verifyPlugin, type ImageBlob } from '@wharf/sdk-testing';
import defaultExport, { S3_PLUGIN_VERSION, S3StorageDriver, storageS3Plugin } from './index.js';
import { listLeftovers, startS3rver, type S3rverHandle } from './test-support.js';

let s3: S3rverHandle;
let dir: string;
const bucket = 'wharf-plugin';

before(async () => {
  s3 = await startS3rver();
  await s3.createBucket(bucket);
  dir = await mkdtemp(path.join(tmpdir(), 'wharf-s3-plugin-'));
});

after(async () => {
  await s3?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The config of an open registry in `dir` storing into s3rver, as an operator would write it. */
function wharfConfig(s3Section: Record<string, unknown>): Record<string, unknown> {
  return {
    dataDir: dir,
    log: { level: 'warn', format: 'json' },
    auth: [],
    rbac: {},
    token: { enabled: false },
    storage: { s3: { endpoint: s3.endpoint, forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', bucket, ...s3Section } },
  };
}

describe('storageS3Plugin', () => {
  it('loads through the production loader as its package, exported by default and by name, versioned like its package', async () => {
    const pkgPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
    // Register only: the closed port is never contacted.
    const verified = await verifyPlugin('s3', { kind: 'storage', config: { endpoint: 'http://127.0.0.1:9', bucket } });
    assert.deepEqual({ ...verified, config: undefined }, {
      id: 's3',
      kind: 'storage',
      version: pkg.version,
      kernel: '^0.1.0',
      packageName: pkg.name,
      taps: [],
      services: [coreServices.storage.id],
      initDeps: [],
      migrations: false,
      routes: false,
      config: undefined,
    });
    assert.equal(verified.config['partSize'], 8 * 1024 * 1024, 'defaults applied');
    assert.ok(isWharfPlugin(storageS3Plugin));
    assert.equal(defaultExport, storageS3Plugin);
    assert.equal(S3_PLUGIN_VERSION, pkg.version);
    for (const [name, range] of Object.entries(pkg.dependencies)) assert.match(range, /^\d+\.\d+\.\d+$/, `${name} is pinned`);
  });

  it('provides the storage service from register, without I/O until the health check', async () => {
    const provided: Array<{ ref: ServiceRef<unknown>; factory: ServiceFactory<unknown, ServiceDeps> }> = [];
    const hooks = new Proxy({}, { get: () => assert.fail('the s3 plugin taps no hook') });
    storageS3Plugin.register({
      id: 's3',
      // A closed port: any request would fail, and none is made.
      config: Object.freeze({ ...(wharfConfig({}).storage as { s3: Record<string, unknown> }).s3, endpoint: 'http://127.0.0.1:9', partSize: 8 * 1024 * 1024 }) as never,
      logger: (await import('pino')).pino({ enabled: false }),
      settings: { dataDir: dir, publicUrl: 'http://127.0.0.1:5000' },
      hooks: hooks as never,
      api: { operation: () => assert.fail('no api operations') } as never,
      events: { subscribe: () => assert.fail('no event consumers') },
      ui: { contribute: () => assert.fail('no UI') },
      provide: (ref, factory) => void provided.push({ ref, factory: factory as ServiceFactory<unknown, ServiceDeps> }),
      registerInit: () => assert.fail('the s3 plugin needs no init'),
      migrations: () => assert.fail('the s3 plugin has no tables'),
      routes: () => assert.fail('the s3 plugin has no routes'),
    });
    assert.equal(provided.length, 1);
    assert.equal(provided[0]?.ref, coreServices.storage);
    const driver = provided[0]?.factory.factory({});
    assert.ok(driver instanceof S3StorageDriver);
    assert.equal(driver.name, 's3');
    await provided[0]?.factory.dispose?.(driver);
  });

  it('loads through the production loader with defaults applied and the secrets marked', async () => {
    const loaded = await loadTestConfig({ config: wharfConfig({ prefix: 'registry' }) });
    const section = (loaded.config.storage as Record<string, Record<string, unknown>>)['s3'];
    assert.equal(section?.['partSize'], 8 * 1024 * 1024);
    assert.equal(section?.['maxAttempts'], 5);
    assert.equal(section?.['retryMode'], 'standard');
    assert.deepEqual(section?.['redirect'], { enabled: false });
    assert.ok(loaded.secrets.paths.includes('storage.s3.secretAccessKey'));
    assert.equal(loaded.plugins.find((p) => p.plugin.kind === 'storage')?.plugin.id, 's3');

    const fromEnv = await loadTestConfig({ config: wharfConfig({}), env: { WHARF_STORAGE__S3__PART_SIZE: '16777216', WHARF_STORAGE__S3__REDIRECT__ENABLED: 'true' } });
    const overridden = (fromEnv.config.storage as Record<string, Record<string, unknown>>)['s3'];
    assert.equal(overridden?.['partSize'], 16 * 1024 * 1024);
    assert.deepEqual(overridden?.['redirect'], { enabled: true });
  });

  it('refuses bad settings by path: archive storage classes, parts under 5 MiB, unknown keys, a missing bucket name', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ storageClass: 'GLACIER' }, /storage\.s3\.storageClass/],
      [{ partSize: 1024 * 1024 }, /storage\.s3\.partSize/],
      [{ endpont: 'http://typo' }, /storage\.s3\.endpont.*not a known key/],
      [{ bucket: undefined }, /storage\.s3.*bucket/],
      [{ endpoint: 'minio:9000' }, /storage\.s3\.endpoint/],
    ];
    for (const [section, pattern] of cases) {
      const config = wharfConfig(section);
      await assert.rejects(loadTestConfig({ config: JSON.parse(JSON.stringify(config)) as Record<string, unknown> }), (err: unknown) => {
        assert.ok(err instanceof KernelError, String(err));
        assert.equal(err.code, 'REG_ERR_CONFIG_INVALID');
        assert.match(err.message, pattern);
        return true;
      });
    }
  });

  it('boots a kernel on the bucket, and stops the boot with REG_ERR_STORAGE naming a missing bucket', async () => {
    const kernel = await createTestKernel({ config: wharfConfig({ prefix: 'boot/' }), logDestination: captureLogs().stream });
    try {
      assert.equal(kernel.get(coreServices.storage).name, 's3');
    } finally {
      await kernel.close();
    }
    await assert.rejects(createTestKernel({ config: wharfConfig({ bucket: 'not-there', maxAttempts: 1 }), logDestination: captureLogs().stream }), (err: unknown) => {
      assert.ok(err instanceof KernelError, String(err));
      assert.equal(err.code, 'REG_ERR_STORAGE');
      assert.equal(err.plugin, 's3');
      assert.match(err.message, /bucket "not-there" does not exist/);
      return true;
    });
  });

  it('deletes collected blobs by their recorded uploads: DeleteObjects only, no listing per blob (ADR 0037)', async () => {
    const blob = (text: string): ImageBlob => {
      const bytes = Buffer.from(text);
      return { mediaType: 'application/octet-stream', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length, bytes };
    };
    const twice = blob('pushed twice, so two uploads were committed as it');
    const once = blob('pushed once');
    const registry = await startTestRegistry({ config: wharfConfig({ prefix: 'gc-by-record/' }), logDestination: captureLogs().stream });
    try {
      await pushBlob(registry.url, 'gc/a', twice);
      await pushBlob(registry.url, 'gc/b', twice);
      await pushBlob(registry.url, 'gc/a', once);
      const driver = registry.get(coreServices.storage) as S3StorageDriver;
      const sent: string[] = [];
      driver.client.middlewareStack.add((next, context) => (args) => {
        sent.push(String(context.commandName));
        return next(args);
      }, { step: 'initialize', name: 'countCommandsForTest' });
      // Linked in no manifest: garbage once the window (here: the future) has passed them.
      const deletion = await registry.get(coreServices.blobs).deleteUnreferenced([twice.digest, once.digest], { olderThan: new Date(Date.now() + 60_000), run: 'test' });
      driver.client.middlewareStack.remove('countCommandsForTest');
      assert.deepEqual(deletion.deleted.map((b) => b.digest).sort(), [twice.digest, once.digest].sort());
      assert.deepEqual(sent, ['DeleteObjectsCommand', 'DeleteObjectsCommand'], 'data keys, then claim keys; nothing looked up');
      assert.deepEqual(await listLeftovers(driver.client, bucket, 'gc-by-record/'), [], 'no claim or data object is left');
    } finally {
      await registry.close();
    }
  });
});
