import { exportName, type KindTemplate, type ScaffoldVars } from './common.js';

/**
 * `logging`: a log sink type. Entries of `log.sinks` with `type: <name>` get a sink that posts
 * batches of records as JSON lines to an HTTP endpoint; the kernel queues, batches and counts
 * drops around it.
 */

const index = (v: ScaffoldVars): string => `import { checkSinkOptions, definePlugin, Type, type LogRecord, type LogSink, type Static } from '@wharf/sdk';

/** The keys of a \`log.sinks\` entry with \`type: ${v.name}\`, beside channels, level, bufferSize, batchSize. */
export const sinkSchema = Type.Object(
  {
    url: Type.String({ format: 'uri', description: 'where batches are POSTed, as newline-delimited JSON' }),
    timeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
  },
  { additionalProperties: false },
);
export type SinkOptions = Static<typeof sinkSchema>;

export function createSink(options: SinkOptions): LogSink {
  return {
    // The kernel calls write again only once this settled, and batches what came meanwhile.
    async write(records: readonly LogRecord[]) {
      const res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: records.map((r) => r.line).join('\\n') + '\\n',
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await res.arrayBuffer();
      // A rejection drops the batch: the kernel counts it (coreServices.logSinks) and warns.
      if (!res.ok) throw new Error(\`${v.name} sink: the endpoint answered \${res.status}\`);
    },
  };
}

export const ${exportName(v)} = definePlugin({
  id: '${v.name}',
  kind: 'logging',
  version: '0.1.0',
  kernel: '${v.kernelRange}',
  description: 'A log sink: posts log records to an HTTP endpoint',
  // Each log.sinks entry carries its own settings; the plugin has none.
  configSchema: Type.Object({}, { additionalProperties: false }),
  register(ctx) {
    // No I/O here: the sink connects on its first write.
    ctx.hooks.logging.sink.for('${v.name}').tap(ctx.id, (_entry, context) => createSink(checkSinkOptions(sinkSchema, context)));
  },
});

export default ${exportName(v)};
`;

const test = (v: ScaffoldVars): string => `import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestRegistry, verifyPlugin } from '@wharf/sdk-testing';
import plugin from './index.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('${v.packageName}', () => {
  it('loads through the production loader and taps logging.sink', async () => {
    const v = await verifyPlugin('${v.name}', { kind: 'logging', cwd: packageDir });
    assert.equal(v.id, '${v.name}');
    assert.equal(v.packageName, '${v.packageName}');
    assert.deepEqual(v.taps, ['logging.sink[${v.name}]']);
  });

  it('posts log records to a real HTTP endpoint', async () => {
    const lines: Record<string, unknown>[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        for (const line of body.split('\\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = \`http://127.0.0.1:\${(receiver.address() as AddressInfo).port}/ingest\`;
    const registry = await startTestRegistry({ config: { log: { level: 'info', sinks: [{ type: '${v.name}', url }] } }, plugins: [plugin] });
    try {
      assert.equal((await fetch(\`\${registry.url}/healthz\`)).status, 200);
      const deadline = Date.now() + 5000;
      while (!lines.some((l) => l.msg === 'request') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(lines.some((l) => l.msg === 'request' && l.path === '/healthz'), JSON.stringify(lines.map((l) => l.msg)));
    } finally {
      await registry.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('refuses a bad option at boot, naming the key', async () => {
    await assert.rejects(startTestRegistry({ config: { log: { sinks: [{ type: '${v.name}', url: 'not a url' }] } }, plugins: [plugin] }), /log\\.sinks\\[0\\]\\.url/);
  });
});
`;

const readmeConfig = (v: ScaffoldVars): string => `\`\`\`yaml
log:
  sinks:
    - type: stdout                     # keep the console
    - type: ${v.name}
      url: http://collector:8080/ingest
      channels: [audit]                # optional: only these channels (ordinary lines are \`app\`)
\`\`\`

A sink of this type in \`log.sinks\` loads the plugin; it has no settings of its own:

\`\`\`yaml
logging:
  ${v.name}:
\`\`\`

Each batch of records is POSTed as newline-delimited JSON. The kernel queues records while a
post is pending (\`bufferSize\`), and counts and reports what a failed post drops.`;

export const loggingTemplate: KindTemplate = {
  index,
  test,
  readmeConfig,
  summary: 'a log sink type: posts log records to an HTTP endpoint (`log.sinks: [{ type: <name>, url }]`).',
};
