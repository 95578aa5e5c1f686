import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isWharfPlugin } from '@wharf/sdk';
import { captureLogs, startTestRegistry, type TestRegistry, verifyPlugin } from '@wharf/sdk-testing';
import authLdapDefault, { authLdapPlugin } from './index.js';
import { PEOPLE_DN, SEARCH_DN, SEARCH_PASSWORD, GROUPS_DN, startSlapd, type Slapd } from './test-support/slapd.js';
import { LDAP_PLUGIN_VERSION } from './version.js';

/** The plugin as the kernel loads it: a real registry whose `/v2/` Basic auth asks slapd. */

const here = path.dirname(fileURLToPath(import.meta.url));

let slapd: Slapd;
let dataDir: string;
before(async () => {
  slapd = await startSlapd();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'wharf-ldap-e2e-'));
});
after(async () => {
  await slapd?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function ldapSection(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url: slapd.url,
    bindDN: SEARCH_DN,
    bindPassword: SEARCH_PASSWORD,
    userBase: PEOPLE_DN,
    groups: { mode: 'search', base: GROUPS_DN, adminGroups: ['registry-admins'] },
    ...extra,
  };
}

/** A registry with LDAP as its only provider, otherwise on the kernel's secure defaults. */
async function boot(ldap: Record<string, unknown>, dir: string, logs = captureLogs()): Promise<TestRegistry> {
  return startTestRegistry({
    dataDir: dir,
    config: { log: { level: 'debug', format: 'json' }, auth: [{ ldap }], rbac: { projects: {} }, token: { enabled: true } },
    plugins: [authLdapPlugin],
    logDestination: logs.stream,
  });
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('@wharf/plugin-auth-ldap', () => {
  it('loads through the production loader, exported as default and as authLdapPlugin, at the package version', async () => {
    const pkg = JSON.parse(await readFile(path.join(here, '../package.json'), 'utf8')) as { name: string; version: string };
    const verified = await verifyPlugin('ldap', { kind: 'auth', config: ldapSection() });
    assert.deepEqual({ ...verified, config: undefined }, {
      id: 'ldap',
      kind: 'auth',
      version: pkg.version,
      kernel: '^0.1.0',
      packageName: pkg.name,
      taps: ['auth.authenticate', 'auth.principal', 'lifecycle.ready'],
      services: [],
      initDeps: [],
      migrations: false,
      routes: false,
      config: undefined,
    });
    assert.equal(authLdapDefault, authLdapPlugin);
    assert.ok(isWharfPlugin(authLdapPlugin));
    assert.equal(LDAP_PLUGIN_VERSION, pkg.version);
  });

  it('serves GET /v2/ to alice with her LDAP password and refuses a wrong one', async () => {
    const logs = captureLogs();
    const server = await boot(ldapSection(), dataDir, logs);
    try {
      const ok = await fetch(`${server.url}/v2/`, { headers: { authorization: basic('alice', 'alicepw') } });
      assert.equal(ok.status, 200);
      const wrong = await fetch(`${server.url}/v2/`, { headers: { authorization: basic('alice', 'bad-password-123') } });
      assert.equal(wrong.status, 401);
      const body = (await wrong.json()) as { errors: { code: string }[] };
      assert.equal(body.errors[0]?.code, 'UNAUTHORIZED');
      // A user LDAP does not know, with no other provider in the chain: refused too.
      const unknown = await fetch(`${server.url}/v2/`, { headers: { authorization: basic('mallory', 'x-password') } });
      assert.equal(unknown.status, 401);
    } finally {
      await server.close();
    }
    for (const secret of ['alicepw', 'bad-password-123', SEARCH_PASSWORD]) assert.ok(!logs.text().includes(secret), `log contains ${secret}`);
  });

  it('gives a principal restored from a token the same groups and admin flag as a password login', async () => {
    const server = await boot(ldapSection(), dataDir);
    try {
      const info = { requestId: 't', ip: '127.0.0.1', method: 'POST', path: '/service/token', userAgent: undefined };
      const { auth } = server.hooks;
      const login = await auth.authenticate.promise({ kind: 'basic', username: 'alice', password: 'alicepw' }, info);
      assert.ok(login);
      const fresh = await auth.principal.promise(login, info);
      assert.deepEqual([...fresh.groups].sort(), ['devs', 'registry-admins']);
      assert.equal(fresh.admin, true);
      // What a refresh token restores: subject, provider, flags and claims, no groups.
      const restored = { subject: 'bob', kind: 'user' as const, provider: 'ldap', groups: [], admin: true, claims: { dn: `uid=bob,${PEOPLE_DN}` } };
      const enriched = await auth.principal.promise(restored, info);
      assert.deepEqual(enriched.groups, ['devs']);
      assert.equal(enriched.admin, false, 'the admin flag follows the directory, not the token');
      // A user the directory no longer has is refused.
      await assert.rejects(auth.principal.promise({ ...restored, subject: 'mallory' }, info), /no longer in the directory/);
      // Other providers' principals pass unchanged.
      const other = { ...restored, provider: 'db' };
      assert.deepEqual(await auth.principal.promise(other, info), other);
    } finally {
      await server.close();
    }
  });

  it('rejects an invalid section at boot, naming the key', async () => {
    await assert.rejects(boot(ldapSection({ url: 'http://example.org' }), dataDir), /auth\[0\]\.ldap\.url/);
    await assert.rejects(boot(ldapSection({ bindPasword: 'typo' }), dataDir), /bindPasword/);
    await assert.rejects(boot(ldapSection({ url: slapd.url.replace('ldap:', 'ldaps:'), startTLS: true }), dataDir), /startTLS/);
  });

  it('reads the CA file at ready, not at register, and fails boot when it is missing', async () => {
    await assert.rejects(boot(ldapSection({ tls: { ca: 'no-such-ca.pem' } }), dataDir), /tls\.ca: cannot read .*no-such-ca\.pem: ENOENT/);
  });
});
