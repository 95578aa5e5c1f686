import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { definePlugin, isWharfPlugin, KernelError, Type } from '@wharf/sdk';
import { startTestRegistry, verifyPlugin, type TestRegistry } from '@wharf/sdk-testing';
import bcrypt from 'bcryptjs';
import htpasswdDefault, { htpasswdAuthPlugin } from './index.js';
import { HTPASSWD_PLUGIN_VERSION } from './version.js';

/** The plugin as a third party tests it: through the SDK testing kit only. */

const here = path.dirname(fileURLToPath(import.meta.url));
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const entry = (user: string, password: string): string => `${user}:${bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2y$')}`;

/** A second provider after htpasswd in the chain: it knows only `carol`, and records who it was asked about. */
const asked: string[] = [];
const fallbackPlugin = definePlugin({
  id: 'fallback',
  kind: 'auth',
  version: '0.0.0',
  kernel: '^0.1.0',
  configSchema: Type.Object({}),
  register(ctx) {
    ctx.hooks.auth.authenticate.tapPromise(ctx.id, async (credentials) => {
      if (credentials.kind !== 'basic') return undefined;
      asked.push(credentials.username);
      return credentials.username === 'carol' && credentials.password === 'carol-pw'
        ? { subject: 'carol', kind: 'user', provider: ctx.id, admin: false, groups: [] }
        : undefined;
    });
  },
});

let dir: string;
let file: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-htpasswd-plugin-'));
  file = path.join(dir, 'htpasswd');
  await writeFile(file, `${entry('alice', 'alice-pw')}\n${entry('bob', 'bob-pw')}\n`);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof KernelError, `expected a KernelError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('wharf-plugin-auth-htpasswd: loading', () => {
  it('loads through the production loader by its id, at the package version', async () => {
    const pkg = JSON.parse(await readFile(path.join(here, '../package.json'), 'utf8')) as { name: string; version: string };
    const verified = await verifyPlugin('htpasswd', { kind: 'auth', config: { file } });
    assert.equal(verified.id, 'htpasswd');
    assert.equal(verified.kind, 'auth');
    assert.equal(verified.version, pkg.version);
    assert.equal(verified.packageName, pkg.name);
    assert.deepEqual([...verified.taps].sort(), ['auth.active', 'auth.authenticate', 'lifecycle.ready']);
    assert.deepEqual(verified.services, []);
    assert.deepEqual(verified.config, { file, admins: [] });
    assert.equal(HTPASSWD_PLUGIN_VERSION, pkg.version);
    assert.equal(htpasswdDefault, htpasswdAuthPlugin);
    assert.ok(isWharfPlugin(htpasswdAuthPlugin));
  });

  it('loads by path too', async () => {
    const verified = await verifyPlugin('./htpasswd-auth', { kind: 'auth', config: { file }, cwd: path.join(here, '../..') });
    assert.equal(verified.id, 'htpasswd');
  });

  it('refuses a config without file, with unknown keys, or with admins not a list of names', async () => {
    await rejectsWith(verifyPlugin('htpasswd', { kind: 'auth', config: {} }), 'REG_ERR_CONFIG_INVALID', /file/);
    await rejectsWith(verifyPlugin('htpasswd', { kind: 'auth', config: { file, path: file } }), 'REG_ERR_CONFIG_INVALID', /path/);
    await rejectsWith(verifyPlugin('htpasswd', { kind: 'auth', config: { file, admins: 'alice' } }), 'REG_ERR_CONFIG_INVALID', /admins/);
    await rejectsWith(verifyPlugin('htpasswd', { kind: 'auth', config: { file, admins: [''] } }), 'REG_ERR_CONFIG_INVALID', /admins/);
  });

  it('is not a storage plugin', async () => {
    await rejectsWith(verifyPlugin('./htpasswd-auth', { kind: 'storage', config: { file }, cwd: path.join(here, '../..') }), 'REG_ERR_PLUGIN_KIND_MISMATCH', /htpasswd/);
  });

  it('stops the boot on a file with a non-bcrypt entry, naming the file and line', async () => {
    const bad = path.join(dir, 'bad');
    await writeFile(bad, `${entry('alice', 'a')}\nbob:$apr1$Vj3bFx7X$7aTAl2c5pnxYQ0rA1yXm0.\n`);
    await assert.rejects(
      startTestRegistry({ config: { auth: [{ htpasswd: { file: bad } }] }, plugins: [htpasswdAuthPlugin] }),
      (err: unknown) => {
        assert.ok(err instanceof KernelError);
        assert.equal(err.code, 'REG_ERR_PLUGIN_INIT');
        assert.equal(err.plugin, 'htpasswd');
        assert.match(err.message, new RegExp(`^plugin "htpasswd": lifecycle.ready failed: ${bad} line 2: user "bob" has Apache MD5`));
        assert.match(err.message, /only bcrypt entries are supported \(htpasswd -B\)$/);
        return true;
      },
    );
  });

  it('stops the boot on a missing file; a relative path is resolved against the data directory', async () => {
    await assert.rejects(
      startTestRegistry({ config: { auth: [{ htpasswd: { file: 'nope/htpasswd' } }] }, plugins: [htpasswdAuthPlugin], dataDir: dir }),
      (err: unknown) => {
        assert.ok(err instanceof KernelError);
        assert.match(err.message, new RegExp(`lifecycle.ready failed: cannot read ${path.join(dir, 'nope/htpasswd')}: ENOENT$`));
        return true;
      },
    );
  });
});

describe('wharf-plugin-auth-htpasswd: a registry with Basic auth', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({
      config: {
        token: { enabled: false, activeCacheSeconds: 0 },
        auth: [{ htpasswd: { file, admins: ['alice'] } }, { fallback: {} }],
      },
      plugins: [htpasswdAuthPlugin, fallbackPlugin],
    });
  });
  after(async () => {
    await registry?.close();
  });

  const v2 = (authorization?: string): Promise<Response> =>
    fetch(`${registry.url}/v2/`, authorization ? { headers: { authorization } } : {});

  it('lets a user of the file in with the right password', async () => {
    asked.length = 0;
    assert.equal((await v2(basic('alice', 'alice-pw'))).status, 200);
    assert.equal((await v2(basic('bob', 'bob-pw'))).status, 200);
    assert.deepEqual(asked, [], 'users of the file are answered by htpasswd, not the next provider');
  });

  it('refuses a wrong password with 401, without asking the next provider', async () => {
    asked.length = 0;
    const res = await v2(basic('bob', 'wrong'));
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code, 'UNAUTHORIZED');
    assert.deepEqual(asked, []);
  });

  it('leaves users it does not know to the next provider', async () => {
    asked.length = 0;
    assert.equal((await v2(basic('carol', 'carol-pw'))).status, 200);
    assert.equal((await v2(basic('dave', 'x'))).status, 401);
    assert.deepEqual(asked, ['carol', 'dave']);
  });

  it('marks the admins of the config as administrators', async () => {
    const alice = await registry.hooks.auth.authenticate.promise({ kind: 'basic', username: 'alice', password: 'alice-pw' }, info());
    const bob = await registry.hooks.auth.authenticate.promise({ kind: 'basic', username: 'bob', password: 'bob-pw' }, info());
    assert.deepEqual([alice?.provider, alice?.admin, bob?.admin], ['htpasswd', true, false]);
  });

  it('follows changes of the file: a new password works at once, the old one (even cached) stops', async () => {
    assert.equal((await v2(basic('bob', 'bob-pw'))).status, 200);
    await writeFile(file, `${entry('alice', 'alice-pw')}\n${entry('bob', 'bob-new-pw')}\n${entry('erin', 'erin-pw')}\n`);
    assert.equal((await v2(basic('bob', 'bob-new-pw'))).status, 200);
    assert.equal((await v2(basic('erin', 'erin-pw'))).status, 200);
    assert.equal((await v2(basic('bob', 'bob-pw'))).status, 401);
  });
});

describe('wharf-plugin-auth-htpasswd: a registry with token auth', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry({
      config: { token: { enabled: true, activeCacheSeconds: 0 }, auth: [{ htpasswd: { file, admins: ['alice'] } }] },
      plugins: [htpasswdAuthPlugin],
    });
  });
  after(async () => {
    await registry?.close();
  });

  it('issues a token for the right password, which opens /v2/, and none for a wrong one', async () => {
    const challenge = await fetch(`${registry.url}/v2/`);
    assert.equal(challenge.status, 401);
    const realm = /realm="([^"]+)"/.exec(challenge.headers.get('www-authenticate') ?? '')?.[1];
    assert.ok(realm, 'a Bearer challenge with a realm');
    const url = `${realm}?service=wharf&scope=repository:library/tiny:pull,push`;

    const wrong = await fetch(url, { headers: { authorization: basic('alice', 'nope') } });
    assert.equal(wrong.status, 401);

    const ok = await fetch(url, { headers: { authorization: basic('alice', 'alice-pw') } });
    assert.equal(ok.status, 200);
    const { token } = (await ok.json()) as { token: string };
    assert.equal((await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${token}` } })).status, 200);

    // The kernel remembers verified credentials; auth.active tells it the password changed.
    await writeFile(file, `${entry('alice', 'alice-new-pw')}\n`);
    assert.equal((await fetch(url, { headers: { authorization: basic('alice', 'alice-pw') } })).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: basic('alice', 'alice-new-pw') } })).status, 200);
    // Removed from the file: its tokens stop working.
    await writeFile(file, `${entry('bob', 'bob-pw')}\n`);
    assert.equal((await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
  });
});

function info() {
  return { requestId: 'test', ip: '127.0.0.1', method: 'GET', path: '/v2/', userAgent: undefined };
}
