import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { definePlugin, Type } from '@wharf/sdk';
import { createTestDatabase, type TestDatabase } from '@wharf/sdk-testing/databases';
import { loadConfig } from '../config/load-config.js';
import { KernelConfigSchema } from '../config/schema.js';
import { startServer, type RunningServer } from '../kernel/start-server.js';
import { baseConfig, captureLogs, tempDir, type CapturedLogs } from '../kernel/test-support.js';
import { createLogger } from './logger.js';

/**
 * Every secret key of the kernel schema set at once (and a plugin's secret `url`): request URLs
 * and ordinary `url` fields stay readable, and no secret value reaches any log line, through
 * the access log, careless plugin lines, request bodies and malformed requests alike.
 */

type Json = Record<string, unknown>;

/** Schema paths marked `secret: true` (`anyOf` branches share their parent's path). */
function secretPaths(schema: unknown, path = ''): string[] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as Json;
  if (node.secret === true) return [path];
  const out: string[] = [];
  for (const branch of (node.anyOf as unknown[] | undefined) ?? []) out.push(...secretPaths(branch, path));
  for (const [key, sub] of Object.entries((node.properties as Json | undefined) ?? {})) out.push(...secretPaths(sub, path ? `${path}.${key}` : key));
  return out;
}

const dbPassword = 'Db-Url-Secret-9f1c';
const dbObjectPassword = 'Db-Obj-Secret-72aa';
const redisPassword = 'Redis-Secret-77ab';
const secretKey = randomBytes(32).toString('base64');
const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const vaultUrl = 'https://vault-user:Vault-Url-Pw-5e21@vault.internal:8200/v1';
const vaultKey = 'Vault-Api-Key-3c9d';

/** The kernel's secret keys, each with the value the tests set. */
const KERNEL_SECRETS: Record<string, string> = {
  'database.connection': `postgres://postgres:${dbPassword}@127.0.0.1:5432/test`,
  'database.connection.password': dbObjectPassword,
  'token.keys.signingKey': signingKey,
  'jobs.redis.url': `redis://:${redisPassword}@127.0.0.1:6379/0`,
  secretKey,
};

const vault = definePlugin({
  id: 'vault',
  kind: 'extension',
  version: '1.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({ url: Type.String({ secret: true }), apiKey: Type.String({ secret: true }), region: Type.String() }),
  register(ctx) {
    // Careless on purpose: the whole config, and an ordinary `url` field.
    ctx.logger.info({ config: ctx.config }, 'vault configured');
    ctx.routes((router) =>
      router.post('/echo', (c) => {
        ctx.logger.info({ url: c.path, method: c.method }, 'vault echo');
        c.status = 204;
      }),
    );
  },
});

/** The raw secret strings that must never be written (PEM body lines included). */
function forbidden(): string[] {
  const pemBody = signingKey.split('\n').filter((l) => l && !l.startsWith('-----'));
  return [dbPassword, dbObjectPassword, redisPassword, secretKey, vaultKey, 'Vault-Url-Pw-5e21', ...pemBody];
}

function assertClean(text: string): void {
  for (const secret of forbidden()) assert.ok(!text.includes(secret), `a secret leaked: ${secret.slice(0, 12)}...`);
}

describe('secret keys and log lines', () => {
  it('the test covers every secret key of the kernel schema', () => {
    assert.deepEqual(secretPaths(KernelConfigSchema).sort(), Object.keys(KERNEL_SECRETS).sort());
  });

  it('the object form of database.connection: its password is scrubbed, url fields stay', async () => {
    const loaded = await loadConfig({
      config: { dataDir: '/tmp/unused', database: { client: 'postgres', connection: { host: '127.0.0.1', user: 'wharf', password: dbObjectPassword, database: 'w' } } },
      env: {},
    });
    const logs = captureLogs();
    const log = createLogger({ level: 'info', format: 'json', secrets: loaded.secrets, destination: logs.stream });
    log.info({ method: 'GET', url: '/v2/library/alpine/manifests/3.20', path: '/v2/library/alpine/manifests/3.20' }, 'request');
    log.info({ connection: (loaded.config.database as { connection?: unknown }).connection, note: `pw is ${dbObjectPassword}` }, 'database');
    assertClean(logs.text());
    assert.equal(logs.lines()[0]?.url, '/v2/library/alpine/manifests/3.20');
  });

  describe('through a running registry on PostgreSQL', () => {
    let db: TestDatabase;
    let server: RunningServer;
    let logs: CapturedLogs;
    let cleanup: () => Promise<void>;

    before(async () => {
      db = await createTestDatabase('postgres');
      const tmp = await tempDir('wharf-secret-keys-');
      cleanup = tmp.cleanup;
      const connection = new URL(db.config.client === 'postgres' ? db.config.connection : '');
      connection.password = dbPassword;
      logs = captureLogs();
      server = await startServer({
        config: baseConfig(tmp.dir, {
          database: { client: 'postgres', connection: connection.toString() },
          token: { enabled: true, algorithm: 'ES256', keys: { signingKey } },
          jobs: { redis: { url: KERNEL_SECRETS['jobs.redis.url'] } },
          secretKey,
          extensions: { vault: { url: vaultUrl, apiKey: vaultKey, region: 'eu-1' } },
        }),
        listen: '127.0.0.1:0',
        env: {},
        plugins: [vault],
        logDestination: logs.stream,
      });
    });

    after(async () => {
      await server?.close();
      await cleanup?.();
      await db?.drop();
    });

    it('keeps request paths in the access log and writes no secret value anywhere', async () => {
      const get = (p: string) => fetch(`${server.url}${p}`).then((r) => r.status);
      assert.equal(await get('/v2/library/alpine/manifests/3.20'), 401);
      // A secret in a query value, and as a password in a token request body.
      assert.equal(await get(`/v2/?note=${encodeURIComponent(redisPassword)}`), 401);
      const token = await fetch(`${server.url}/service/token?service=wharf`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${vaultKey}`).toString('base64')}` },
      });
      assert.ok(token.status < 500, String(token.status));
      assert.equal((await fetch(`${server.url}/_ext/vault/echo`, { method: 'POST', body: `apiKey=${vaultKey}` })).status, 204);
      // A malformed request: Node's parser error carries the raw packet, secrets included.
      await new Promise<void>((resolve) => {
        const socket = net.connect(server.port, '127.0.0.1', () => {
          socket.end(`GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Leak: ${secretKey}\r\nTransfer-Encoding: chunked\r\n\r\nzz${dbPassword}\r\n`);
        });
        socket.on('data', () => undefined);
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 50));

      const lines = logs.lines();
      const access = lines.filter((l) => l.msg === 'request');
      assert.ok(access.some((l) => l.path === '/v2/library/alpine/manifests/3.20' && l.status === 401), JSON.stringify(access));
      assert.ok(access.some((l) => l.path === '/_ext/vault/echo' && l.status === 204));
      assert.ok(!access.some((l) => JSON.stringify(l).includes('"path":"[redacted]"')));
      const echo = lines.find((l) => l.msg === 'vault echo');
      assert.equal(echo?.url, '/_ext/vault/echo', 'a plugin url field stays visible although plugin and kernel have secret `url` keys');
      const configured = lines.find((l) => l.msg === 'vault configured')?.config as Json | undefined;
      assert.equal(configured?.region, 'eu-1');
      assertClean(logs.text());
    });
  });
});
