import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { coreServices, definePlugin, Type } from '@wharf/sdk';
import { startTestRegistry, verifyPlugin, type TestRegistry } from '@wharf/sdk-testing';
import { loggingLokiPlugin } from './index.js';

/** The Loki sink against a real HTTP receiver that speaks Loki's push API. */

interface Push {
  authorization: string | undefined;
  body: { streams: { stream: Record<string, string>; values: [string, string][] }[] };
}

const auditor = definePlugin({
  id: 'auditor',
  kind: 'extension',
  version: '1.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    const audit = ctx.logger.child({ channel: 'audit' });
    ctx.routes((router) =>
      router.post('/hit', (c) => {
        audit.info({ audit: { action: 'push', repository: 'team/app' } }, 'audit');
        c.status = 204;
      }),
    );
  },
});

describe('loki sink (example third-party plugin)', () => {
  const pushes: Push[] = [];
  let status = 204;
  let loki: http.Server;
  let lokiUrl: string;
  let registry: TestRegistry;

  before(async () => {
    loki = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        if (req.method === 'POST' && req.url === '/loki/api/v1/push' && status < 300) {
          pushes.push({ authorization: req.headers.authorization, body: JSON.parse(text) as Push['body'] });
        }
        res.statusCode = req.url === '/loki/api/v1/push' ? status : 404;
        res.end();
      });
    });
    await new Promise<void>((resolve) => loki.listen(0, '127.0.0.1', resolve));
    lokiUrl = `http://127.0.0.1:${(loki.address() as AddressInfo).port}`;
    registry = await startTestRegistry({
      config: {
        log: {
          level: 'info',
          format: 'json',
          sinks: [{ type: 'loki', url: lokiUrl, channels: ['audit'], labels: { env: 'test' }, username: 'wharf', password: 'Loki-Pw-42' }],
        },
      },
      plugins: [loggingLokiPlugin, auditor],
    });
  });

  after(async () => {
    await registry?.close();
    await new Promise((resolve) => loki.close(resolve));
  });

  it('is a logging plugin the production loader accepts', async () => {
    const report = await verifyPlugin(new URL('..', import.meta.url).pathname, { kind: 'logging', config: {} });
    assert.deepEqual([report.id, report.kind, report.taps], ['loki', 'logging', ['logging.sink[loki]']]);
  });

  it('pushes the audit channel as a labelled Loki stream with nanosecond timestamps', async () => {
    assert.equal((await fetch(`${registry.url}/_ext/auditor/hit`, { method: 'POST' })).status, 204);
    const deadline = Date.now() + 5000;
    while (pushes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const [push] = pushes;
    assert.ok(push, 'Loki received a push');
    assert.equal(push.authorization, `Basic ${Buffer.from('wharf:Loki-Pw-42').toString('base64')}`);
    assert.equal(push.body.streams.length, 1);
    const [stream] = push.body.streams;
    assert.deepEqual(stream?.stream, { app: 'wharf', env: 'test', channel: 'audit' });
    const [ns, line] = stream!.values[0]!;
    assert.ok(Math.abs(Number(BigInt(ns) / 1_000_000n) - Date.now()) < 60_000);
    const record = JSON.parse(line) as { msg: string; audit: { action: string } };
    assert.deepEqual([record.msg, record.audit.action], ['audit', 'push']);
  });

  it('a push Loki refuses is counted as dropped', async () => {
    status = 500;
    const stats = registry.get(coreServices.logSinks);
    const before = stats.getDroppedCount();
    await fetch(`${registry.url}/_ext/auditor/hit`, { method: 'POST' });
    const deadline = Date.now() + 5000;
    while (stats.getDroppedCount() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(stats.getDroppedCount(), before + 1);
    status = 204;
  });
});
