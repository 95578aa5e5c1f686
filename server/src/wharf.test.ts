import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger, createMetadataStore } from '@wharf/core';
import { tempDir, WHARF_BIN } from './test-support.js';

/** The built `wharf` binary of the distribution, run as a child process. */

const BIN = WHARF_BIN;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no WHARF_* leaking in from whoever runs the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WHARF_')));
}

/** GET /v2/ with optional Basic credentials (`user:password`). */
function getV2(url: string, basic?: string): Promise<{ status: number; challenge: string | undefined }> {
  const headers = basic ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {};
  return new Promise((resolve, reject) => {
    http.get(`${url}/v2/`, { agent: false, headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] });
    }).on('error', reject);
  });
}

function wharf(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

let dir: string;
let cleanup: () => Promise<void>;

async function file(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('wharf CLI', () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('wharf-cli-'));
  });
  after(() => cleanup());

  it('config check prints ok for a valid file (and does not touch the database)', async () => {
    // Port 1 has no PostgreSQL: a check that connected would fail.
    const cfg = await file('valid.yaml', 'database:\n  client: postgres\n  connection: postgres://u:p4ssw0rd@127.0.0.1:1/db\nstorage:\n  fs: {}\n');
    const run = await wharf(['config', 'check', cfg], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'ok\n');
  });

  it('config check lists every problem with its path, one line each, and exits 1', async () => {
    const cfg = await file('invalid.yaml', 'server:\n  listen: nowhere\n  colour: red\nstorage:\n  fs:\n    root: 7\n');
    const run = await wharf(['config', 'check', cfg], dir);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trim().split('\n').sort();
    assert.deepEqual(lines, [
      'error REG_ERR_CONFIG_INVALID: server.colour: is not a known key',
      'error REG_ERR_CONFIG_INVALID: server.listen: must be host:port, e.g. 127.0.0.1:5000, 0.0.0.0:5000 or [::1]:5000',
      'error REG_ERR_CONFIG_INVALID: storage.fs.root: must be string (plugin fs)',
    ]);
  });

  it('config check reports an unknown plugin in one line, without a stack', async () => {
    const cfg = await file('unknown.yaml', 'extensions:\n  nope: {}\n');
    const run = await wharf(['config', 'check', cfg], dir);
    assert.equal(run.code, 1);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0] ?? '', /^error REG_ERR_PLUGIN_NOT_FOUND: extensions\.nope: no extension plugin "nope"; tried @wharf\/plugin-extension-nope, @wharf\/plugin-nope, wharf-plugin-extension-nope/);
  });

  it('config print shows the effective config with secrets redacted', async () => {
    const cfg = await file('secret.yaml', 'database:\n  client: mysql\n  connection:\n    host: db\n    password: printed-never-123\n');
    const run = await wharf(['config', 'print', '--config', cfg], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stdout.includes('printed-never-123'));
    assert.match(run.stdout, /password: "\[redacted\]"|password: '\[redacted\]'|password: \[redacted\]/);
    assert.match(run.stdout, new RegExp(`dataDir: ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/data`));
    assert.match(run.stdout, /storage:\n {2}fs:\n {4}fsync: true/);
  });

  it('config print shows the defaults derived at boot too, marked, and never for a key given', async () => {
    const run = await wharf(['config', 'print'], dir);
    assert.equal(run.code, 0, run.stderr);
    const data = path.join(dir, 'data');
    assert.match(run.stdout, new RegExp(`\n {4}root: ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} # default\n`));
    assert.match(run.stdout, /\n {2}realm: http:\/\/127\.0\.0\.1:5000\/service\/token # default\n/);
    assert.ok(run.stdout.includes(`signingKeyFile: ${path.join(data, 'token', 'signing.pem')} # default`), run.stdout);
    // A key given is printed as given; a default made moot by another key is not printed.
    const cfg = await file('given.yaml', 'storage:\n  fs:\n    root: /srv/blobs\ntoken:\n  realm: https://reg.example/token\n  keys:\n    signingKey: not-checked-here\n');
    const given = await wharf(['config', 'print', '--config', cfg], dir);
    // The inline key is unusable, so load refuses before printing: use one that parses.
    assert.equal(given.code, 1);
    assert.match(given.stderr, /token\.keys\.signingKey: is not a PEM private key/);
    const withFile = await file('given-file.yaml', 'storage:\n  fs:\n    root: /srv/blobs\ntoken:\n  enabled: false\n  realm: https://reg.example/token\n  keys:\n    signingKey: not-a-key-but-token-is-off\n');
    const printed = await wharf(['config', 'print', '--config', withFile], dir);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /\n {4}root: \/srv\/blobs\n/);
    assert.match(printed.stdout, /\n {2}realm: https:\/\/reg\.example\/token\n/);
    assert.doesNotMatch(printed.stdout, /signingKeyFile/);
    assert.match(printed.stdout, /signingKey: "?\[redacted\]"?/);
  });

  it('config print masks passwords in URL query strings and userinfo, marked secret or not', async () => {
    const cfg = await file(
      'url-secrets.yaml',
      [
        'database:',
        '  client: postgres',
        '  connection: "postgres://wharf@db:5432/wharf?sslmode=require&password=pg-query-secret-1"',
        'jobs:',
        '  backend: redis',
        '  redis:',
        '    url: "redis://:redis-userinfo-pw-2@cache:6379/0?password=redis-query-pw-3"',
        'auth:',
        '  - ldap:',
        '      url: "ldap://reader:ldap-userinfo-pw-4@ldap.example:389"',
        '      bindDN: cn=reader,dc=example,dc=org',
        '      bindPassword: bind-pw-5',
        '      userBase: ou=people,dc=example,dc=org',
        '',
      ].join('\n'),
    );
    const run = await wharf(['config', 'print', '--config', cfg], dir);
    assert.equal(run.code, 0, run.stderr);
    for (const secret of ['pg-query-secret-1', 'redis-userinfo-pw-2', 'redis-query-pw-3', 'ldap-userinfo-pw-4', 'bind-pw-5']) {
      assert.ok(!run.stdout.includes(secret), `${secret} printed:\n${run.stdout}`);
    }
    // What is not secret stays readable: hosts, users, other parameters.
    assert.match(run.stdout, /postgres:\/\/wharf@db:5432\/wharf\?sslmode=require&password=\[redacted\]/);
    assert.match(run.stdout, /ldap:\/\/reader:\[redacted\]@ldap\.example:389/);
    assert.match(run.stdout, /redis:\/\/:\[redacted\]@cache:6379\/0\?password=\[redacted\]/);
  });

  it('migrate creates the SQLite database with the configured plugins\' tables and exits 0', async () => {
    const cfg = await file('migrate.yaml', `dataDir: ${dir}/migrated\nlog:\n  level: warn\n`);
    const run = await wharf(['migrate', '--config', cfg], dir);
    assert.equal(run.code, 0, run.stderr);
    const filename = path.join(dir, 'migrated', 'wharf.db');
    assert.ok((await stat(filename)).isFile());
    // The default plugins (db auth, projects, the audit log) declare migrations: `wharf migrate` ran them too.
    const store = createMetadataStore({ client: 'sqlite', filename }, createLogger({ level: 'silent', format: 'json' }));
    try {
      for (const table of ['wharf_migrations', 'users', 'wharf_auth_db_migrations', 'rbac_projects', 'wharf_rbac_projects_migrations', 'audit_log_entries', 'wharf_logging_audit_migrations']) {
        assert.equal(await store.knex.schema.hasTable(table), true, table);
      }
    } finally {
      await store.close();
    }
  });

  it('--help lists the kernel commands and those contributed by the shipped plugins (replication among them)', async () => {
    const run = await wharf(['--help'], dir);
    assert.equal(run.code, 0, run.stderr);
    const commands = [...run.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]);
    for (const name of ['serve', 'migrate', 'config', 'plugin', 'replication', 'user', 'project', 'robot']) assert.ok(commands.includes(name), `${name} in\n${run.stdout}`);
    const user = await wharf(['user', '--help'], dir);
    assert.match(user.stdout, /add \[options\] <name>/);
    assert.match(user.stdout, /passwd \[options\] <name>/);
  });

  it('serve boots secure on embedded defaults, answers, and exits 0 on SIGTERM', async (t) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(dir, 'served')], { cwd: dir, env: cleanEnv() });
    // A failed assertion must not leave the server running after the test.
    t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    let stdout = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in time:\n${stdout}`)), 15000);
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        const m = /"msg":"listening"/.test(stdout) ? /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(stdout) : null;
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited early (${code}):\n${stdout}`)));
    });
    // Secure by default: anonymous /v2/ is challenged, the generated admin password is in a
    // 0600 file, and only that password opens the registry.
    const anonymous = await getV2(url);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.challenge ?? '', /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/service\/token",service="wharf"/);
    const passwordFile = path.join(dir, 'served', 'admin-password');
    assert.equal((await stat(passwordFile)).mode & 0o777, 0o600);
    const password = (await readFile(passwordFile, 'utf8')).trim();
    assert.ok(!stdout.includes(password), 'the generated password never reaches the log');
    assert.equal((await getV2(url, `admin:${password}`)).status, 200);
    assert.equal((await getV2(url, 'admin:not-the-password')).status, 401);
    assert.doesNotMatch(stdout, /registry is open/);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(stdout, /"msg":"kernel closed"/);
  });

  it('serve exits 1 with one clear line when boot fails', async () => {
    const cfg = await file('bad-serve.yaml', 'rbac:\n  nothing-here: {}\n');
    const run = await wharf(['serve', '--config', cfg, '--listen', '127.0.0.1:0'], dir);
    assert.equal(run.code, 1);
    assert.match(run.stderr.trim(), /^error REG_ERR_PLUGIN_NOT_FOUND: rbac\.nothing-here: [^\n]*$/);
  });
});
