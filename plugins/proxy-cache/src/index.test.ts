import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RegistryError } from '@wharf/sdk';
import { verifyPlugin } from '@wharf/sdk-testing';
import proxyCacheDefault, { PROXY_CACHE_PLUGIN_VERSION, proxyCachePlugin } from './index.js';
import { classify, clientError, staleWarning, UpstreamTimeout } from './failures.js';
import { ReplicationTargetError } from '@wharf/sdk';

/** The plugin as the loader sees it, and how upstream failures read to clients. */

const here = path.dirname(fileURLToPath(import.meta.url));

describe('@wharf/plugin-proxy-cache', () => {
  it('loads by its config key through the production loader, at the package version, after replication', async () => {
    const pkg = JSON.parse(await readFile(path.join(here, '../package.json'), 'utf8')) as { name: string; version: string };
    const verified = await verifyPlugin('proxy-cache', { kind: 'extension', config: { upstreamTimeoutSeconds: 5 } });
    assert.equal(verified.packageName, pkg.name, 'extensions.proxy-cache resolves to this package');
    assert.equal(verified.version, pkg.version);
    assert.equal(proxyCacheDefault, proxyCachePlugin);
    assert.equal(PROXY_CACHE_PLUGIN_VERSION, pkg.version);
    assert.deepEqual(proxyCachePlugin.dependsOn, ['replication']);
  });

  it('turns upstream failures into OCI errors naming the upstream and its answer, never a 500', () => {
    const cases: Array<[unknown, number, string, string]> = [
      [new ReplicationTargetError('NOT_FOUND', 'x failed: HTTP 404', { status: 404 }), 404, 'MANIFEST_UNKNOWN', '404'],
      [new ReplicationTargetError('REMOTE_ERROR', 'x failed: HTTP 429', { status: 429 }), 429, 'TOOMANYREQUESTS', '429'],
      [new ReplicationTargetError('REMOTE_ERROR', 'x failed: HTTP 503', { status: 503 }), 502, 'UNKNOWN', '503'],
      [new ReplicationTargetError('UNREACHABLE', 'x failed: cannot reach the registry (ECONNREFUSED)'), 503, 'UNKNOWN', 'unreachable (ECONNREFUSED)'],
      [new UpstreamTimeout(15), 503, 'UNKNOWN', 'timeout after 15 s'],
    ];
    for (const [err, status, code, answer] of cases) {
      const failure = classify('hub', err);
      assert.equal(failure.answer, answer);
      const refused = clientError(failure, 'MANIFEST_UNKNOWN', 'nginx:1');
      assert.ok(refused instanceof RegistryError);
      assert.deepEqual([refused.status, refused.code], [status, code], answer);
      assert.equal(refused.message, `proxy cache: upstream hub answered ${answer} for nginx:1`);
    }
    assert.equal(staleWarning(classify('hub', new ReplicationTargetError('REMOTE_ERROR', 'HTTP 429', { status: 429 }))), '110 - "stale: hub answered 429"');
    assert.equal(staleWarning({ upstream: 'a "quoted" name', kind: 'unavailable', answer: 'x', message: '' }), '110 - "stale: a quoted name answered x"');
  });
});
