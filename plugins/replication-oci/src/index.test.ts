import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isWharfPlugin, KernelError, type Digest } from '@wharf/sdk';
import { digestOf, startTestRegistry, verifyPlugin } from '@wharf/sdk-testing';
import defaultExport, { OCI_PLUGIN_VERSION, OciTarget, replicationOciPlugin } from './index.js';

describe('replicationOciPlugin', () => {
  it("leaves Node's own fetch working (the undici package must not take over its global dispatcher)", async () => {
    // index.js is loaded above; a fetch with a body is what broke when undici 7 claimed the slot.
    const server = createServer((req, res) => req.pipe(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'PUT', body: 'echo', headers: { 'content-length': '4' } });
      assert.equal(await res.text(), 'echo');
    } finally {
      server.close();
    }
  });

  it('loads through the production loader as its package, taps replication.target[oci], versioned like its package', async () => {
    const pkgPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
    const verified = await verifyPlugin('oci', { kind: 'replication', config: {} });
    assert.deepEqual({ ...verified, config: undefined }, {
      id: 'oci',
      kind: 'replication',
      version: pkg.version,
      kernel: '^0.1.0',
      packageName: pkg.name,
      taps: ['replication.target[oci]'],
      services: [],
      initDeps: [],
      migrations: false,
      routes: false,
      config: undefined,
    });
    assert.deepEqual(verified.config, { connectTimeoutMs: 10_000, requestTimeoutMs: 120_000, userAgent: 'wharf-replication-oci' }, 'defaults applied');
    assert.ok(isWharfPlugin(replicationOciPlugin));
    assert.equal(defaultExport, replicationOciPlugin);
    assert.equal(OCI_PLUGIN_VERSION, pkg.version);
    for (const [name, range] of Object.entries(pkg.dependencies)) assert.match(range, /^\d+\.\d+\.\d+$/, `${name} is pinned`);
  });

  it('refuses a bad config section, naming the key', async () => {
    await assert.rejects(verifyPlugin('oci', { kind: 'replication', config: { chunkSize: 10 } }), (err: unknown) => {
      assert.ok(err instanceof KernelError, String(err));
      assert.match(err.message, /replication\.oci\.chunkSize/);
      return true;
    });
    await assert.rejects(verifyPlugin('oci', { kind: 'replication', config: { retries: 3 } }), KernelError);
  });

  it('answers the kernel hook for oci endpoints with a working target (a Wharf replicating to itself)', async () => {
    const registry = await startTestRegistry({ config: { replication: { oci: { requestTimeoutMs: 5000, chunkSize: 65536 } } } });
    try {
      const target = registry.hooks.replication.target.for('oci').call({ name: 'self', type: 'oci', url: registry.url });
      assert.ok(target instanceof OciTarget);
      assert.equal(registry.hooks.replication.target.for('s3-bucket').call({ name: 'x', type: 's3-bucket', url: registry.url }), undefined);
      try {
        await target.ping();
        const bytes = Buffer.alloc(200_000, 7);
        const digest = digestOf(bytes) as Digest;
        // The configured chunk size applies when the policy sets none.
        await target.writeBlob('self/blob', digest, bytes.length, Readable.from([bytes]));
        assert.equal(await target.hasBlob('self/blob', digest), true);
      } finally {
        await target.close?.();
      }
    } finally {
      await registry.close();
    }
  });
});
