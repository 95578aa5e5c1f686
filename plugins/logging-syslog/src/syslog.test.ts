import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { coreServices, definePlugin, Type } from '@wharf/sdk';
import { captureLogs, startTestRegistry, type TestRegistry } from '@wharf/sdk-testing';
import { loggingSyslogPlugin } from './index.js';
import { startSyslogReceiver, type SyslogReceiver } from './test-support.js';

/** The syslog sink against real UDP, TCP and TLS receivers that parse RFC 5424. */

const run = promisify(execFile);

/** Logs one audit entry per request, the way the audit plugin does. */
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
        audit.info({ audit: { action: 'push', repository: 'team/app', n: Number(c.query.n) } }, 'audit');
        c.status = 204;
      }),
    );
  },
});

function registry(sinks: unknown[], logDestination?: NodeJS.WritableStream): Promise<TestRegistry> {
  return startTestRegistry({ config: { log: { level: 'info', format: 'json', sinks } }, plugins: [loggingSyslogPlugin, auditor], logDestination });
}

const records = (r: SyslogReceiver) => r.messages.map((m) => ({ ...m, json: JSON.parse(m.msg) as Record<string, unknown> }));

describe('syslog sink', () => {
  const open: { close(): Promise<void> }[] = [];
  after(async () => {
    for (const o of open.reverse()) await o.close();
  });

  it('sends every channel over UDP as RFC 5424: priority, version, app name, channel as MSGID, the JSON line as MSG', async () => {
    const receiver = await startSyslogReceiver({ protocol: 'udp' });
    open.push(receiver);
    const reg = await registry([{ type: 'syslog', protocol: 'udp', host: '127.0.0.1', port: receiver.port, facility: 'local3', appName: 'wharf-test' }]);
    open.push(reg);
    assert.equal((await fetch(`${reg.url}/healthz`)).status, 200);
    await receiver.waitFor(1);
    const deadline = Date.now() + 3000;
    while (!records(receiver).some((m) => m.json.msg === 'request') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const access = records(receiver).find((m) => m.json.msg === 'request');
    assert.ok(access, JSON.stringify(receiver.messages.map((m) => m.msg)));
    assert.equal(access.version, 1);
    assert.equal(access.facility, 19);
    assert.equal(access.severity, 6);
    assert.equal(access.appName, 'wharf-test');
    assert.equal(access.msgId, 'app');
    assert.equal(access.procId, String(process.pid));
    assert.ok(!Number.isNaN(Date.parse(access.timestamp)) && access.timestamp.endsWith('Z'));
    assert.equal(access.json.path, '/healthz');
    assert.deepEqual(receiver.errors, []);
  });

  it('forwards exactly the audit channel over TCP with octet counting when the sink asks for it', async () => {
    const receiver = await startSyslogReceiver({ protocol: 'tcp' });
    open.push(receiver);
    const reg = await registry([{ type: 'syslog', protocol: 'tcp', host: '127.0.0.1', port: receiver.port, channels: ['audit'] }]);
    open.push(reg);
    for (const n of [1, 2, 3]) assert.equal((await fetch(`${reg.url}/_ext/auditor/hit?n=${n}`, { method: 'POST' })).status, 204);
    await receiver.waitFor(3);
    await new Promise((r) => setTimeout(r, 200));
    const got = records(receiver);
    assert.equal(got.length, 3, 'only the audit records, none of the access or boot lines');
    assert.deepEqual(got.map((m) => [m.msgId, m.json.msg, (m.json.audit as { n: number }).n]), [['audit', 'audit', 1], ['audit', 'audit', 2], ['audit', 'audit', 3]]);
    assert.ok(got.every((m) => m.json.channel === 'audit' && typeof m.json.reqId === 'string'));
    assert.deepEqual(receiver.errors, []);
  });

  describe('over TLS', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-syslog-tls-'));
      const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
      await writeFile(path.join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
      await run('openssl', ['req', '-x509', ...KEY, '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.crt'), '-days', '2', '-subj', '/CN=Wharf Syslog Test CA']);
      await run('openssl', ['req', ...KEY, '-keyout', path.join(dir, 'server.key'), '-out', path.join(dir, 'server.csr'), '-subj', '/CN=127.0.0.1']);
      await run('openssl', ['x509', '-req', '-in', path.join(dir, 'server.csr'), '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'), '-CAcreateserial', '-out', path.join(dir, 'server.crt'), '-days', '2', '-extfile', path.join(dir, 'ext')]);
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('delivers to a receiver whose certificate the configured CA signed, and to no other', async () => {
      const receiver = await startSyslogReceiver({
        protocol: 'tls',
        cert: await readFile(path.join(dir, 'server.crt'), 'utf8'),
        key: await readFile(path.join(dir, 'server.key'), 'utf8'),
      });
      open.push(receiver);
      const good = await registry([{ type: 'syslog', protocol: 'tls', host: '127.0.0.1', port: receiver.port, channels: ['audit'], tls: { caFile: path.join(dir, 'ca.crt') } }]);
      open.push(good);
      await fetch(`${good.url}/_ext/auditor/hit?n=7`, { method: 'POST' });
      await receiver.waitFor(1);
      assert.equal((records(receiver)[0]?.json.audit as { n: number }).n, 7);

      // Without the CA, the system trust store refuses the receiver: dropped, never delivered.
      const untrusted = await registry([{ type: 'syslog', protocol: 'tls', host: '127.0.0.1', port: receiver.port, channels: ['audit'] }]);
      open.push(untrusted);
      await fetch(`${untrusted.url}/_ext/auditor/hit?n=8`, { method: 'POST' });
      const stats = untrusted.get(coreServices.logSinks);
      const deadline = Date.now() + 5000;
      while (stats.getDroppedCount() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(stats.getDroppedCount(), 1);
      assert.equal(receiver.messages.length, 1);
    });
  });

  it('a receiver that is down never blocks a request: records are dropped, counted and warned about', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const logs = captureLogs();
    const reg = await registry(
      [{ type: 'stdout' }, { type: 'syslog', protocol: 'tcp', host: '127.0.0.1', port, bufferSize: 5, retryMs: 60000 }],
      logs.stream,
    );
    open.push(reg);
    const started = Date.now();
    for (let i = 0; i < 20; i += 1) assert.equal((await fetch(`${reg.url}/healthz`)).status, 200);
    assert.ok(Date.now() - started < 5000, `20 requests took ${Date.now() - started} ms`);
    const stats = reg.get(coreServices.logSinks);
    const syslog = stats.stats().find((s) => s.type === 'syslog');
    assert.ok(syslog && syslog.dropped >= 20, JSON.stringify(stats.stats()));
    assert.ok(syslog.queued <= 5);
    assert.equal(stats.stats().find((s) => s.type === 'stdout')?.dropped, 0);
    assert.equal(stats.getDroppedCount(), syslog.dropped);
    const deadline = Date.now() + 2000;
    while (!logs.records().some((r) => r.msg === 'log sink dropping records') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const warning = logs.records().find((r) => r.msg === 'log sink dropping records');
    assert.ok(warning, 'a warning names the sink');
    assert.equal(warning.sink, 'log.sinks[1]');
    assert.equal(warning.level, 40);
    assert.match(String(warning.reason), /ECONNREFUSED|unreachable/);
  });

  it('refuses bad sink options at boot, naming the key', async () => {
    await assert.rejects(registry([{ type: 'syslog', host: '127.0.0.1', port: 'x' }]), /log\.sinks\[0\]\.port/);
    await assert.rejects(registry([{ type: 'nosuch-sink' }]), /nosuch-sink/);
  });
});
