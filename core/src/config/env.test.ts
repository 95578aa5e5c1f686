import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyEnvOverrides, parseEnvOverrides } from './env.js';
import { buildConfigSchema, KernelConfigSchema } from './schema.js';
import { Type } from '@sinclair/typebox';

/** `WHARF_*` variables: parsing, key matching, and the two phases around plugin sections. */

const kernelSchema = KernelConfigSchema as unknown as Record<string, unknown>;

describe('environment overrides', () => {
  it('reads WHARF_ variables except WHARF_CONFIG, shortest paths first', () => {
    const parsed = parseEnvOverrides({ WHARF_CONFIG: '/etc/wharf.yaml', WHARF_DATABASE__CONNECTION__HOST: 'h', WHARF_DATABASE__CLIENT: 'mysql', HOME: '/root' });
    assert.deepEqual(parsed.map((p) => p.segments), [['DATABASE', 'CLIENT'], ['DATABASE', 'CONNECTION', 'HOST']]);
  });

  it('matches schema keys case-insensitively, ignoring underscores, and types values by the schema', () => {
    const target: Record<string, unknown> = { server: { listen: '127.0.0.1:5000' } };
    const deferred = applyEnvOverrides(
      target,
      parseEnvOverrides({
        WHARF_SERVER__TRUST_PROXY: 'true',
        WHARF_SERVER__SHUTDOWN_TIMEOUT_MS: '2500',
        WHARF_DATA_DIR: '/srv/wharf',
        WHARF_DATABASE__CONNECTION__PASSWORD: '12345',
        WHARF_DATABASE__POOL__MAX: '7',
        WHARF_NOT_A_KEY: 'x',
      }),
      kernelSchema,
      { stopAtPlugins: true },
    );
    assert.deepEqual(deferred, []);
    assert.deepEqual(target, {
      server: { listen: '127.0.0.1:5000', trustProxy: true, shutdownTimeoutMs: 2500 },
      dataDir: '/srv/wharf',
      // Below `connection` the schema is a union: a password stays a string, not the number 12345.
      database: { connection: { password: '12345' }, pool: { max: 7 } },
    });
  });

  it('defers what reaches into a plugin section until the plugin schema is known', () => {
    const target: Record<string, unknown> = { auth: [{ ldap: { url: 'ldap://a' } }] };
    const overrides = parseEnvOverrides({ WHARF_AUTH__0__LDAP__BIND_PASSWORD: '0042', WHARF_STORAGE__FS__FSYNC: 'false' });
    const deferred = applyEnvOverrides(target, overrides, kernelSchema, { stopAtPlugins: true });
    assert.equal(deferred.length, 2);
    assert.deepEqual(target, { auth: [{ ldap: { url: 'ldap://a' } }], storage: { fs: {} } });

    const composite = buildConfigSchema([
      { section: 'storage', key: 'fs', schema: Type.Object({ fsync: Type.Boolean() }) },
      { section: 'auth', key: 'ldap', index: 0, schema: Type.Object({ url: Type.String(), bindPassword: Type.String() }) },
    ]) as unknown as Record<string, unknown>;
    applyEnvOverrides(target, deferred, composite, { stopAtPlugins: false });
    assert.deepEqual(target, { auth: [{ ldap: { url: 'ldap://a', bindPassword: '0042' } }], storage: { fs: { fsync: false } } });
  });
});
