import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_GROUP_FILTER, DEFAULT_USER_FILTER } from './config.js';
import { loadTlsOptions, resolveSettings } from './settings.js';

const required = { url: 'ldap://127.0.0.1:389', bindDN: 'cn=search,dc=x', bindPassword: 'pw-123', userBase: 'ou=people,dc=x' };
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('resolveSettings', () => {
  it('fills the documented defaults', () => {
    const s = resolveSettings(required);
    assert.equal(s.userFilter, DEFAULT_USER_FILTER);
    assert.equal(s.userScope, 'sub');
    assert.equal(s.usernameAttribute, 'uid');
    assert.equal(s.displayNameAttribute, 'cn');
    assert.deepEqual(s.groups, { mode: 'none', filter: DEFAULT_GROUP_FILTER, scope: 'sub', nameAttribute: 'cn', adminGroups: [] });
    assert.equal(s.startTLS, false);
    assert.deepEqual(s.tls, { rejectUnauthorized: true });
    assert.equal(s.connectTimeoutMs, 5000);
    assert.equal(s.timeoutMs, 5000);
  });

  it('rejects what the schema cannot express', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: 'ldaps://h', startTLS: true }, /startTLS/],
      [{ url: 'ldap://user:pw@h' }, /credentials/],
      [{ url: 'http://h' }, /ldap:\/\//],
      [{ userFilter: '(uid=alice)' }, /\{username\}/],
      [{ groups: { mode: 'search' } }, /groups\.base/],
      [{ timeoutMs: 0 }, /timeouts/],
    ];
    for (const [extra, message] of cases) {
      assert.throws(() => resolveSettings({ ...required, ...extra }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'REG_ERR_CONFIG_INVALID');
        assert.match(err.message, message);
        return true;
      });
    }
  });
});

describe('loadTlsOptions', () => {
  it('passes inline PEM through and reads a relative path against the base directory', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-ldap-tls-'));
    try {
      assert.deepEqual(await loadTlsOptions({ rejectUnauthorized: true }, dir), { rejectUnauthorized: true });
      assert.deepEqual(await loadTlsOptions({ ca: PEM, rejectUnauthorized: true }, dir), { rejectUnauthorized: true, ca: PEM });
      await writeFile(path.join(dir, 'ca.pem'), PEM);
      assert.deepEqual(await loadTlsOptions({ ca: 'ca.pem', rejectUnauthorized: false }, dir), { rejectUnauthorized: false, ca: PEM });
      await writeFile(path.join(dir, 'empty.pem'), 'not a certificate');
      await assert.rejects(loadTlsOptions({ ca: 'empty.pem', rejectUnauthorized: true }, dir), /holds no PEM/);
      await assert.rejects(loadTlsOptions({ ca: path.join(dir, 'missing.pem'), rejectUnauthorized: true }, dir), /ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
