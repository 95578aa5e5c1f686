import { Type, type Static } from '@wharf/sdk';
import { FACILITIES } from './rfc5424.js';

/**
 * The keys of a `log.sinks` entry with `type: syslog`, beside the common ones (`channels`,
 * `level`, `bufferSize`, `batchSize`).
 */
export const syslogSinkSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: 'the receiver' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'usually 514 (udp, tcp) or 6514 (tls)' }),
    protocol: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('tls')], { default: 'udp', description: 'tcp and tls frame messages by octet counting (RFC 6587)' }),
    facility: Type.Union(
      Object.keys(FACILITIES).map((f) => Type.Literal(f)),
      { default: 'local0', description: 'syslog facility of every message' },
    ),
    appName: Type.String({ minLength: 1, maxLength: 48, default: 'wharf', description: 'the APP-NAME field' }),
    hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'the HOSTNAME field; default: the machine name' })),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 120000, default: 5000, description: 'longest connect or write before the batch is dropped' }),
    retryMs: Type.Integer({ minimum: 100, maximum: 600000, default: 2000, description: 'after a failed connection, batches are dropped at once for this long before the next try' }),
    maxMessageBytes: Type.Integer({ minimum: 480, maximum: 65000, default: 8192, description: 'longer messages are cut (UDP datagrams, and TCP for receivers with a limit)' }),
    tls: Type.Optional(
      Type.Object(
        {
          caFile: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA bundle trusted for the receiver (relative to the config file); default: the system CAs' })),
          certFile: Type.Optional(Type.String({ minLength: 1, description: 'client certificate (PEM), for receivers that ask for one' })),
          keyFile: Type.Optional(Type.String({ minLength: 1, description: 'key of the client certificate (PEM)' })),
          rejectUnauthorized: Type.Boolean({ default: true, description: 'false accepts any receiver certificate (testing only)' }),
          servername: Type.Optional(Type.String({ minLength: 1, description: 'name checked in the certificate; default: host' })),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SyslogSinkOptions = Static<typeof syslogSinkSchema>;
