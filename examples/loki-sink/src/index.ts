import { checkSinkOptions, definePlugin, Type, type LogRecord, type LogSink, type Static } from '@wharf/sdk';

/**
 * `log.sinks: [{ type: loki, url: http://loki:3100 }]`: pushes log records to Grafana Loki's
 * push API, one stream per channel, labelled `{ app, channel, ...labels }`. Written with
 * `@wharf/sdk` only: the kernel gives the sink batches, queues (bounded) while a push is on its
 * way, and counts what a failed push drops.
 */

export const lokiSinkSchema = Type.Object(
  {
    url: Type.String({ format: 'uri', description: 'Loki base URL, e.g. http://loki:3100' }),
    labels: Type.Record(Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' }), Type.String(), { default: {}, description: 'extra stream labels' }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    // `password` is secret by name: the kernel scrubs its value from every log line.
    password: Type.Optional(Type.String({ minLength: 1 })),
    timeoutMs: Type.Integer({ minimum: 100, default: 5000 }),
  },
  { additionalProperties: false },
);
export type LokiSinkOptions = Static<typeof lokiSinkSchema>;

/** Loki's push body: one stream per channel, `[nanoseconds, line]` pairs in order. */
export function pushBody(records: readonly LogRecord[], labels: Readonly<Record<string, string>>): { streams: { stream: Record<string, string>; values: [string, string][] }[] } {
  const byChannel = new Map<string, [string, string][]>();
  for (const r of records) {
    const values = byChannel.get(r.channel) ?? [];
    values.push([`${BigInt(r.time) * 1_000_000n}`, r.line]);
    byChannel.set(r.channel, values);
  }
  return { streams: [...byChannel].map(([channel, values]) => ({ stream: { app: 'wharf', ...labels, channel }, values })) };
}

export function createLokiSink(options: LokiSinkOptions): LogSink {
  const endpoint = new URL('/loki/api/v1/push', options.url);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
  return {
    async write(records) {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(pushBody(records, options.labels)),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await res.arrayBuffer();
      // A rejection tells the kernel the batch is lost: it counts and reports it.
      if (!res.ok) throw new Error(`loki answered ${res.status}`);
    },
  };
}

export const loggingLokiPlugin = definePlugin({
  id: 'loki',
  kind: 'logging',
  version: '0.1.0',
  kernel: '^0.1.0',
  description: 'Pushes log records to Grafana Loki',
  configSchema: Type.Object({}, { additionalProperties: false }),
  register(ctx) {
    ctx.hooks.logging.sink.for('loki').tap(ctx.id, (_entry, context) => createLokiSink(checkSinkOptions(lokiSinkSchema, context)));
  },
});

export default loggingLokiPlugin;
