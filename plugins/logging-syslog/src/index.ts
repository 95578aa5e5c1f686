import { checkSinkOptions, definePlugin, Type, type LogRecord, type LogSink, type LogSinkContext } from '@wharf/sdk';
import { syslogSinkSchema, type SyslogSinkOptions } from './config.js';
import { formatRfc5424, type Facility } from './rfc5424.js';
import { createStreamTransport, createUdpTransport } from './transport.js';
import { SYSLOG_PLUGIN_VERSION } from './version.js';

/**
 * The `syslog` sink type: `log.sinks: [{ type: syslog, host, port, protocol: udp | tcp | tls }]`.
 * Each record becomes one RFC 5424 message whose MSG is the record's JSON line and whose MSGID
 * is its channel. Listing a syslog sink loads this plugin (`logging: { syslog: {} }` needs no
 * settings).
 */

export function createSyslogSink(options: SyslogSinkOptions, baseDir: string): LogSink {
  const transportOptions = {
    protocol: options.protocol,
    host: options.host,
    port: options.port,
    timeoutMs: options.timeoutMs,
    retryMs: options.retryMs,
    maxMessageBytes: options.maxMessageBytes,
    tls: options.tls,
    baseDir,
  };
  const transport = options.protocol === 'udp' ? createUdpTransport(transportOptions) : createStreamTransport(transportOptions);
  const format = { facility: options.facility as Facility, appName: options.appName, hostname: options.hostname };
  return {
    write: (records: readonly LogRecord[]) => transport.send(records.map((r) => formatRfc5424(r, format))),
    close: () => transport.close(),
  };
}

export const loggingSyslogPlugin = definePlugin({
  id: 'syslog',
  kind: 'logging',
  version: SYSLOG_PLUGIN_VERSION,
  kernel: '^0.1.0',
  description: 'Forwards log records to syslog receivers (RFC 5424 over UDP, TCP or TLS)',
  // The plugin itself has no settings: each `log.sinks` entry of type syslog carries its own.
  configSchema: Type.Object({}, { additionalProperties: false }),
  register(ctx) {
    ctx.hooks.logging.sink.for('syslog').tap(ctx.id, (_entry, context: LogSinkContext) =>
      createSyslogSink(checkSinkOptions(syslogSinkSchema, context), context.baseDir),
    );
  },
});

export default loggingSyslogPlugin;
export { syslogSinkSchema, type SyslogSinkOptions } from './config.js';
export { formatRfc5424, octetCounted, severityOf, FACILITIES, type Facility } from './rfc5424.js';
