import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { definePlugin, Type, type Principal } from '@wharf/sdk';
import { startServer, type RunningServer } from '../kernel/start-server.js';
import { baseConfig, captureLogs, tempDir, type CapturedLogs } from '../kernel/test-support.js';
import { createLogger } from './logger.js';

/** Secrets never reach a log line: by path, by value, and through the HTTP stack. */

describe('logger redaction', () => {
  it('redacts credential fields by path and configured secrets by value, never by their key name', () => {
    const logs = captureLogs();
    const log = createLogger({ level: 'info', format: 'json', secrets: { values: ['bind-xyz-987'] }, destination: logs.stream });
    log.info({ req: { headers: { authorization: 'Basic YWxpY2U6c2VjcmV0', host: 'x' } } }, 'one');
    log.info({ user: { password: 'pw-123456', name: 'alice' }, conn: { connection: { password: 'db-pass-1' } } }, 'two');
    log.info({ ldap: { bindPassword: 'bind-xyz-987' }, other: { bindPassword: 'not-configured' } }, 'three');
    const [one, two, three] = logs.lines();
    assert.deepEqual((one?.req as { headers: unknown }).headers, { authorization: '[redacted]', host: 'x' });
    assert.deepEqual(two?.user, { password: '[redacted]', name: 'alice' });
    assert.deepEqual(two?.conn, { connection: { password: '[redacted]' } });
    // The configured value is gone wherever it is; the same key with another value is left alone.
    assert.deepEqual(three?.ldap, { bindPassword: '[redacted]' });
    assert.deepEqual(three?.other, { bindPassword: 'not-configured' });
  });

  it('masks the password of any URL in a field, a message or an error, configured or not', () => {
    const logs = captureLogs();
    const log = createLogger({ level: 'info', format: 'json', destination: logs.stream });
    log.info({ target: 'https://robot:unlisted-pw-1@registry.example.com/v2/', url: '/v2/a/manifests/latest' }, 'copy to ldap://cn=x:other-pw-2@ldap.local');
    log.error({ err: new Error('connect failed: redis://:third-pw-3@cache:6379') }, 'failed');
    const text = logs.text();
    for (const pw of ['unlisted-pw-1', 'other-pw-2', 'third-pw-3']) assert.ok(!text.includes(pw), `${pw} leaked: ${text}`);
    const [first] = logs.lines();
    assert.equal(first?.target, 'https://robot:[redacted]@registry.example.com/v2/');
    assert.equal(first?.url, '/v2/a/manifests/latest');
  });

  it('scrubs configured secret values wherever they appear, also deep or in messages', () => {
    const logs = captureLogs();
    const secret = 'very-secret-"quoted"-value';
    const log = createLogger({ level: 'info', format: 'json', secrets: { values: [secret, 'db-url-pass'] }, destination: logs.stream });
    log.info({ deep: { a: { b: { c: secret } } } }, 'nested');
    log.info(`connecting with ${secret} to postgres://u:db-url-pass@h/db`);
    const text = logs.text();
    assert.ok(!text.includes('very-secret'), text);
    assert.ok(!text.includes('db-url-pass'), text);
    assert.equal(logs.lines().length, 2, 'lines are still valid JSON');
    assert.match(text, /postgres:\/\/u:\[redacted\]@h\/db/);
  });

  it('keeps pretty output scrubbed as well', () => {
    const logs = captureLogs();
    const log = createLogger({ level: 'info', format: 'pretty', secrets: { values: ['pretty-secret-42'] }, destination: logs.stream });
    log.info({ apiKey: 'pretty-secret-42', other: 'visible' }, 'hello pretty-secret-42');
    const text = logs.text();
    assert.ok(!text.includes('pretty-secret-42'), text);
    assert.match(text, /visible/);
  });
});

describe('redaction through a running registry', () => {
  const apiKey = 'vault-api-key-123456';
  const basicPassword = 'basic-pw-777777';
  let server: RunningServer;
  let logs: CapturedLogs;
  let cleanup: () => Promise<void>;

  const vault = definePlugin({
    id: 'vault',
    kind: 'auth',
    version: '1.0.0',
    kernel: '^0.1.0',
    configSchema: Type.Object({ url: Type.String(), apiKey: Type.String({ secret: true }) }),
    register(ctx) {
      // Careless logging, on purpose: the whole config and the raw credentials.
      ctx.logger.info({ config: ctx.config }, 'vault configured');
      ctx.logger.info(`vault key is ${ctx.config.apiKey}`);
      ctx.hooks.auth.authenticate.tapPromise('vault', async (credentials) => {
        ctx.logger.info({ credentials }, 'checking credentials');
        if (credentials.kind === 'basic' && credentials.password === basicPassword) {
          return { subject: credentials.username, kind: 'user', provider: 'vault', groups: [], admin: false } satisfies Principal;
        }
        return undefined;
      });
    },
  });

  before(async () => {
    const tmp = await tempDir('wharf-redact-');
    cleanup = tmp.cleanup;
    logs = captureLogs();
    server = await startServer({
      config: baseConfig(tmp.dir, { log: { level: 'debug', format: 'json' }, auth: [{ vault: { url: 'https://vault.local', apiKey } }] }),
      listen: '127.0.0.1:0',
      env: {},
      plugins: [vault],
      logDestination: logs.stream,
    });
  });

  after(async () => {
    await server.close();
    await cleanup();
  });

  it('a configured secret and a Basic password never appear in any log line', async () => {
    const auth = `Basic ${Buffer.from(`alice:${basicPassword}`).toString('base64')}`;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${server.url}/v2/`, { headers: { Authorization: auth }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200, 'the Basic credentials were accepted by the vault plugin');
    const text = logs.text();
    assert.ok(text.includes('vault configured') && text.includes('checking credentials'), 'the careless lines were written');
    assert.ok(text.includes('"msg":"request"'), 'the access line was written');
    assert.ok(!text.includes(apiKey), 'api key leaked');
    assert.ok(!text.includes(basicPassword), 'Basic password leaked');
    assert.ok(!text.includes(auth.slice('Basic '.length)), 'Basic header leaked');
    const checking = logs.lines().find((l) => l.msg === 'checking credentials');
    assert.deepEqual(checking?.credentials, { kind: 'basic', username: 'alice', password: '[redacted]' });
  });
});
