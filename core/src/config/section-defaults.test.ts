import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { definePlugin, Type } from '@wharf/sdk';
import { loadConfig } from './load-config.js';

/** A distribution's section defaults (the `wharf` binary turns metrics on this way). */

const probe = definePlugin({ id: 'probe', kind: 'extension', version: '0.1.0', kernel: '^0.1.0', configSchema: Type.Object({}), register: () => undefined });
const tuned = definePlugin({ id: 'tuned', kind: 'extension', version: '0.1.0', kernel: '^0.1.0', configSchema: Type.Object({ level: Type.Optional(Type.Integer()) }), register: () => undefined });
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

  it('keeps every default plugin when an environment variable sets a key of one of them', async () => {
    const config = await loadConfig({
      config: base,
      env: { WHARF_EXTENSIONS__TUNED__LEVEL: '3' },
      plugins: [probe, tuned],
      sectionDefaults: { extensions: { probe: {}, tuned: {} } },
    });
    assert.deepEqual(config.plugins.map((p) => p.plugin.id).filter((id) => id === 'probe' || id === 'tuned').sort(), ['probe', 'tuned']);
    const section = config.plugins.find((p) => p.plugin.id === 'tuned');
    assert.deepEqual(section && config.config.extensions?.['tuned'], { level: 3 });
  });
});
