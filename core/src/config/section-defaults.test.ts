import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { definePlugin, Type } from '@wharf/sdk';
import { loadConfig } from './load-config.js';

/** A distribution's section defaults (the `wharf` binary turns metrics on this way). */

const probe = definePlugin({ id: 'probe', kind: 'extension', version: '0.1.0', kernel: '^0.1.0', configSchema: Type.Object({}), register: () => undefined });
const base = { storage: { fs: {} }, auth: [], rbac: {}, replication: {} };
const sectionDefaults = { extensions: { probe: {} } };
const loaded = (config: Record<string, unknown>) =>
  loadConfig({ config: { ...base, ...config }, env: {}, plugins: [probe], sectionDefaults }).then((l) => l.plugins.map((p) => p.plugin.id));

describe('loadConfig sectionDefaults', () => {
  it('fills in a section the file leaves out', async () => {
    assert.ok((await loaded({})).includes('probe'));
  });

  it('is replaced whole by a section the file gives, even an empty one', async () => {
    assert.ok(!(await loaded({ extensions: {} })).includes('probe'));
  });
});
