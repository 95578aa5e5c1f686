import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import path from 'node:path';
import { coreServices, definePlugin, isReplicationTargetError, Type, type ReplicationStatusEvent, type ReplicationTarget } from '@wharf/sdk';
import { loadConfig } from '../config/load-config.js';
import { createKernel, type Kernel } from '../kernel/kernel.js';
import { baseConfig, tempDir } from '../kernel/test-support.js';
import { createSecretBox, loadOrCreateKeyFile, SECRET_KEY_FILE } from '../secrets/secret-box.js';

// The two kernel services a replication engine plugin is built on: the deployment's secret box
// and the adapters of the `replication.target` hook map, on a booted kernel.

describe('coreServices.secrets and coreServices.replicationTargets', () => {
  let kernel: Kernel;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  const opened: string[] = [];
  const statuses: ReplicationStatusEvent[] = [];

  before(async () => {
    tmp = await tempDir('wharf-services-');
    const adapter = definePlugin({
      id: 'fake', kind: 'replication', version: '1.0.0', kernel: '^0.1.0', configSchema: Type.Object({}),
      register(ctx) {
        ctx.hooks.replication.target.for('fake').tap(ctx.id, (endpoint) => {
          opened.push(`${endpoint.name}:${endpoint.credentials?.password ?? '-'}`);
          return { ping: async () => undefined } as unknown as ReplicationTarget;
        });
        ctx.hooks.replication.statusChanged.tapPromise(ctx.id, async (e) => void statuses.push(e));
      },
    });
    const config = baseConfig(tmp.dir, { log: { level: 'warn', format: 'json' }, replication: { fake: {} } });
    kernel = createKernel(await loadConfig({ config, env: {}, plugins: [adapter] }), { logDestination: new PassThrough() });
    await kernel.boot();
  });

  after(async () => {
    await kernel?.close();
    await tmp?.cleanup();
  });

  it('secrets: the data directory key file, same format as stored endpoint secrets, context bound', async () => {
    const secrets = kernel.resolve(coreServices.secrets);
    const keyFile = path.join(kernel.config.dataDir, SECRET_KEY_FILE);
    // What an existing deployment stored with its key file decrypts through the service.
    const stored = createSecretBox(await loadOrCreateKeyFile(keyFile)).encrypt('hunter2', 'replication.endpoint.secret');
    assert.equal(secrets.decrypt(stored, 'replication.endpoint.secret'), 'hunter2');
    const sealed = secrets.encrypt('s3cret', 'webhooks.secret');
    assert.match(sealed, /^v1:/);
    assert.ok(!sealed.includes('s3cret'));
    assert.throws(() => secrets.decrypt(sealed, 'other.context'), (err: Error) => err.name === 'SecretBoxError' && !err.message.includes('s3cret'));
  });

  it('replicationTargets: lists kinds, opens through the tapped adapter, refuses an unknown kind as UNSUPPORTED', async () => {
    const targets = kernel.resolve(coreServices.replicationTargets);
    assert.deepEqual(targets.kinds(), ['fake']);
    const target = targets.open({ name: 'away', type: 'fake', url: 'http://x.invalid', credentials: { username: 'u', password: 'p' } });
    await target.ping();
    assert.deepEqual(opened, ['away:p']);
    assert.throws(
      () => targets.open({ name: 'none', type: 'nope', url: 'http://x.invalid' }),
      (err: unknown) => isReplicationTargetError(err) && err.code === 'UNSUPPORTED' && !err.retryable && /no replication adapter for endpoint type "nope"/.test(err.message),
    );
  });

  it('replicationTargets.statusChanged calls the in-process hook', async () => {
    const event: ReplicationStatusEvent = { id: 'e1', timestamp: new Date(), kind: 'execution', policyId: 1, policyName: 'p', executionId: 2, status: 'running' };
    await kernel.resolve(coreServices.replicationTargets).statusChanged(event);
    assert.deepEqual(statuses, [event]);
  });
});
