import type { PluginKind } from '@wharf/sdk';
import { exportName, yamlSection, type KindTemplate, type ScaffoldVars } from './common.js';

/**
 * `extension`, `replication`: a starting point that listens to registry events and
 * logs them. A replication plugin grows into a `replication.target` adapter from here.
 */

const index = (v: ScaffoldVars): string => `import { definePlugin, Type, type Static } from '@wharf/sdk';

export const configSchema = Type.Object(
  {
    /** Which events to log. */
    events: Type.Array(Type.Union([Type.Literal('manifestPushed'), Type.Literal('manifestDeleted'), Type.Literal('blobCommitted')]), {
      default: ['manifestPushed', 'manifestDeleted'],
    }),
    level: Type.Union([Type.Literal('info'), Type.Literal('debug')], { default: 'info' }),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof configSchema>;

export const ${exportName(v)} = definePlugin({
  id: '${v.name}',
  kind: '${v.kind}',
  version: '0.1.0',
  kernel: '${v.kernelRange}',
  description: 'Logs registry events',
  configSchema,
  register(ctx) {
    const { events, level } = ctx.config;
    const log = (msg: string, fields: Record<string, unknown>) => ctx.logger[level](fields, msg);
    // Notification hooks run in parallel and their results are ignored: a slow or failing
    // listener never fails a push. Do real work (HTTP calls, queues) without blocking.
    if (events.includes('manifestPushed')) {
      ctx.hooks.registry.manifestPushed.tapPromise(ctx.id, async (e) => {
        log('manifest pushed', { repository: e.repository, digest: e.digest, tag: e.tag, actor: e.actor.subject });
      });
    }
    if (events.includes('manifestDeleted')) {
      ctx.hooks.registry.manifestDeleted.tapPromise(ctx.id, async (e) => {
        log('manifest deleted', { repository: e.repository, digest: e.digest, tag: e.tag, actor: e.actor.subject });
      });
    }
    if (events.includes('blobCommitted')) {
      ctx.hooks.registry.blobCommitted.tapPromise(ctx.id, async (e) => {
        log('blob committed', { repository: e.repository, digest: e.digest, size: e.size, mounted: e.mounted });
      });
    }
  },
});

export default ${exportName(v)};
`;

const test = (v: ScaffoldVars): string => `import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pushImage, startTestRegistry, tinyImage, verifyPlugin } from '@wharf/sdk-testing';
import type { PluginContext } from '@wharf/sdk';
import plugin, { type Config } from './index.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('${v.packageName}', () => {
  it('loads through the production loader and taps the chosen events', async () => {
    const v = await verifyPlugin('${v.name}', { kind: '${v.kind}', cwd: packageDir });
    assert.equal(v.id, '${v.name}');
    assert.equal(v.packageName, '${v.packageName}');
    assert.deepEqual([...v.taps].sort(), ['registry.manifestDeleted', 'registry.manifestPushed']);
    const all = await verifyPlugin('${v.name}', { kind: '${v.kind}', cwd: packageDir, config: { events: ['blobCommitted'] } });
    assert.deepEqual(all.taps, ['registry.blobCommitted']);
  });

  it('refuses an unknown event at its key path', async () => {
    await assert.rejects(verifyPlugin('${v.name}', { kind: '${v.kind}', cwd: packageDir, config: { events: ['pushed'] } }), /${sectionRe(v.kind)}\\.${v.name}\\.events\\[0\\]/);
  });

  it('logs each chosen event through its logger', async () => {
    // A small recording context: the hooks keep the plugin's taps, the logger keeps its lines.
    const taps = new Map<string, (event: unknown) => Promise<void>>();
    const lines: Array<[Record<string, unknown>, string]> = [];
    const hook = (name: string) => ({ tapPromise: (_id: string, fn: (event: unknown) => Promise<void>) => void taps.set(name, fn) });
    const ctx = {
      id: '${v.name}',
      config: { events: ['manifestPushed', 'blobCommitted'], level: 'info' },
      logger: { info: (fields: Record<string, unknown>, msg: string) => void lines.push([fields, msg]) },
      hooks: { registry: { manifestPushed: hook('manifestPushed'), manifestDeleted: hook('manifestDeleted'), blobCommitted: hook('blobCommitted') } },
    } as unknown as PluginContext<Config>;
    plugin.register(ctx);
    assert.deepEqual([...taps.keys()], ['manifestPushed', 'blobCommitted']);
    await taps.get('manifestPushed')?.({ repository: 'library/tiny', digest: 'sha256:abc', tag: 'v1', actor: { subject: 'alice' } });
    assert.deepEqual(lines, [[{ repository: 'library/tiny', digest: 'sha256:abc', tag: 'v1', actor: 'alice' }, 'manifest pushed']]);
  });

  it('leaves pushes to a running registry working', async () => {
    const registry = await startTestRegistry({ plugins: [plugin] });
    try {
      const image = tinyImage();
      assert.equal((await pushImage(registry.url, 'library/tiny', 'v1', image)).digest, image.manifest.digest);
    } finally {
      await registry.close();
    }
  });
});
`;

function sectionRe(kind: PluginKind): string {
  return kind === 'extension' ? 'extensions' : kind;
}

const readmeConfig = (v: ScaffoldVars): string => `\`\`\`yaml
${yamlSection(v.kind, v.name, `events: [manifestPushed, manifestDeleted, blobCommitted]   # default: the first two\nlevel: info                                                # info (default) or debug`)}
\`\`\`

Each chosen event is logged through the plugin's logger (a pino child with \`{ plugin: '${v.name}' }\`).`;

export const eventsTemplate: KindTemplate = {
  index,
  test,
  readmeConfig,
  summary: 'logs registry events (`registry.manifestPushed`, `manifestDeleted`, `blobCommitted`).',
};
