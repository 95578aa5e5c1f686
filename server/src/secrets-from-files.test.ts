import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configProblems, loadConfig } from '@wharf/core';
import { runCommand } from '@wharf/sdk-testing';
import { defaultPlugins } from './index.js';
import { tempDir, WHARF_BIN } from './test-support.js';

/**
 * Secrets kept out of the config file (ADR 0027): a `<key>File` sibling of any secret key and
 * `WHARF_..._FILE` variables, read as container platforms mount secrets; a `${VAR}` value is
 * used literally and warned about. Values read from files are secrets like inline ones.
 */

let dir: string;
let cleanup: () => Promise<void>;

const LDAP = (extra: string) => ({
  auth: [{ ldap: { url: 'ldap://127.0.0.1:1', bindDN: 'cn=reader,dc=example,dc=org', userBase: 'ou=people,dc=example,dc=org', ...JSON.parse(extra) } }],
});

async function secret(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

const load = (config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => loadConfig({ config, env, cwd: dir, plugins: defaultPlugins });

function ldapSection(loaded: Awaited<ReturnType<typeof load>>): Record<string, unknown> {
  return loaded.plugins.find((p) => p.plugin.id === 'ldap')?.config as Record<string, unknown>;
}

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const err = await promise.then(
    () => assert.fail('expected REG_ERR_CONFIG_INVALID'),
    (e: unknown) => e,
  );
  assert.equal((err as { code?: string }).code, 'REG_ERR_CONFIG_INVALID', String(err));
  return configProblems(err).map((p) => `${p.path}: ${p.message}`);
}

describe('secrets from files', () => {
  before(async () => {
    ({ dir, cleanup } = await tempDir('wharf-secret-files-'));
  });
  after(() => cleanup());

  it('a <key>File sibling of a secret key reads the file (relative to the config, newline dropped) and is a secret', async () => {
    await secret('ldap-bind', 'bind-from-file-1\n');
    const loaded = await load(LDAP('{"bindPasswordFile": "ldap-bind"}'));
    const section = ldapSection(loaded);
    assert.equal(section.bindPassword, 'bind-from-file-1');
    assert.equal('bindPasswordFile' in section, false);
    assert.ok(loaded.secrets.paths.includes('auth[0].ldap.bindPassword'));
    assert.ok(loaded.secrets.values.includes('bind-from-file-1'));
    assert.deepEqual(loaded.warnings, []);
  });

  it('WHARF_..._FILE names a file for a plugin key and for a kernel key', async () => {
    const bind = await secret('env-bind', 'bind-from-env-file-2\r\n');
    const key = await secret('secret-key', `${Buffer.alloc(32, 9).toString('base64')}\n`);
    const loaded = await load(LDAP('{}'), { WHARF_AUTH__0__LDAP__BIND_PASSWORD_FILE: bind, WHARF_SECRET_KEY_FILE: key });
    assert.equal(ldapSection(loaded).bindPassword, 'bind-from-env-file-2');
    assert.equal(loaded.config.secretKey, Buffer.alloc(32, 9).toString('base64'));
    assert.ok(loaded.secrets.values.includes('bind-from-env-file-2'));
    assert.ok(loaded.secrets.paths.includes('secretKey'));
    // A key whose own name ends in File keeps its meaning (it names a PEM file, not a secret).
    const keyFile = await load({ token: { keys: {} } }, { WHARF_TOKEN__KEYS__VERIFICATION_KEY_FILES: '[]' });
    assert.deepEqual(keyFile.config.token.keys.verificationKeyFiles, []);
  });

  it('a union with a secret branch (database.connection) takes a file too', async () => {
    await secret('db-url', 'postgres://wharf:db-pass-from-file-3@db.example:5432/wharf\n');
    const loaded = await load({ database: { client: 'postgres', connectionFile: './db-url' } });
    assert.equal(loaded.config.database.client === 'postgres' && loaded.config.database.connection, 'postgres://wharf:db-pass-from-file-3@db.example:5432/wharf');
    assert.ok(loaded.secrets.values.includes('db-pass-from-file-3'));
  });

  it('a missing, empty or doubled secret file is a config problem at its path', async () => {
    await secret('empty', '\n');
    assert.deepEqual(await problemsOf(load(LDAP('{"bindPasswordFile": "nope"}'))), [
      `auth[0].ldap.bindPasswordFile: cannot read the secret file ${path.join(dir, 'nope')}: no such file`,
    ]);
    assert.deepEqual(await problemsOf(load(LDAP('{"bindPasswordFile": "empty"}'))), [`auth[0].ldap.bindPasswordFile: the secret file ${path.join(dir, 'empty')} is empty`]);
    assert.deepEqual(await problemsOf(load(LDAP('{"bindPassword": "x-inline-1", "bindPasswordFile": "empty"}'))), [
      'auth[0].ldap.bindPasswordFile: set either bindPassword or bindPasswordFile, not both',
    ]);
    assert.deepEqual(await problemsOf(load({}, { WHARF_SECRET_KEY_FILE: path.join(dir, 'gone') })), [
      `secretKey: WHARF_SECRET_KEY_FILE: cannot read the secret file ${path.join(dir, 'gone')}: no such file`,
    ]);
    // A File key next to a key that is not secret is just an unknown key.
    assert.deepEqual(await problemsOf(load({ server: { listenFile: 'x' } })), ['server.listenFile: is not a known key']);
  });

  it('config check warns about a ${VAR} value, naming the forms that work; config print masks file secrets', async () => {
    const cfg = path.join(dir, 'placeholder.yaml');
    await writeFile(
      cfg,
      'auth:\n  - ldap:\n      url: ldap://127.0.0.1:1\n      bindDN: cn=r,dc=example,dc=org\n      bindPassword: ${LDAP_BIND_PASSWORD}\n      userBase: ou=people,dc=example,dc=org\n',
    );
    const check = await runCommand(process.execPath, [WHARF_BIN, 'config', 'check', cfg], { cwd: dir });
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stdout, 'ok\n');
    assert.equal(
      check.stderr,
      'warning: auth[0].ldap.bindPassword: holds a ${...} placeholder, which Wharf does not expand (the text is used as it is); ' +
        'set the value with the environment variable WHARF_AUTH__0__LDAP__BIND_PASSWORD or bindPasswordFile: <file> (plugin ldap)\n',
    );
    // serve logs the same warning (here it then stops at once: the port is taken).
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      const serve = await runCommand(process.execPath, [WHARF_BIN, 'serve', '--config', cfg, '--listen', `127.0.0.1:${port}`], { cwd: dir });
      assert.equal(serve.code, 1);
      assert.match(serve.stdout, /"level":40,.*"path":"auth\[0\]\.ldap\.bindPassword".*"msg":"config: auth\[0\]\.ldap\.bindPassword: holds a \$\{\.\.\.\} placeholder, which Wharf does not expand/);
      assert.match(serve.stderr, /^error REG_ERR_LISTEN: /);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    await secret('printed-never', 'printed-never-from-file-4\n');
    const fromFile = path.join(dir, 'from-file.yaml');
    await writeFile(fromFile, 'auth:\n  - ldap:\n      url: ldap://127.0.0.1:1\n      bindDN: cn=r,dc=example,dc=org\n      bindPasswordFile: printed-never\n      userBase: ou=people,dc=example,dc=org\n');
    const print = await runCommand(process.execPath, [WHARF_BIN, 'config', 'print', '--config', fromFile], { cwd: dir });
    assert.equal(print.code, 0, print.stderr);
    assert.ok(!print.stdout.includes('printed-never-from-file-4'), print.stdout);
    assert.match(print.stdout, /bindPassword: "?\[redacted\]"?/);
  });
});
