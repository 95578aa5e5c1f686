import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';

/**
 * A syslog receiver for tests: listens on a free port of 127.0.0.1 over UDP, TCP or TLS,
 * de-frames TCP/TLS by octet counting (RFC 6587; anything else is recorded as a framing error)
 * and parses each message as RFC 5424.
 */

export interface SyslogMessage {
  readonly pri: number;
  readonly facility: number;
  readonly severity: number;
  readonly version: number;
  readonly timestamp: string;
  readonly hostname: string;
  readonly appName: string;
  readonly procId: string;
  readonly msgId: string;
  readonly structuredData: string;
  /** The MSG part. */
  readonly msg: string;
}

export interface SyslogReceiver {
  readonly port: number;
  readonly messages: SyslogMessage[];
  readonly errors: string[];
  /** Resolves once `count` messages arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const RFC5424 = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) ?([\s\S]*)$/;

export function parseRfc5424(text: string): SyslogMessage | undefined {
  const m = RFC5424.exec(text);
  if (!m) return undefined;
  const pri = Number(m[1]);
  return {
    pri,
    facility: pri >> 3,
    severity: pri & 7,
    version: Number(m[2]),
    timestamp: m[3]!,
    hostname: m[4]!,
    appName: m[5]!,
    procId: m[6]!,
    msgId: m[7]!,
    structuredData: m[8]!,
    msg: m[9]!,
  };
}

export async function startSyslogReceiver(options: { protocol: 'udp' | 'tcp' | 'tls'; cert?: string; key?: string }): Promise<SyslogReceiver> {
  const messages: SyslogMessage[] = [];
  const errors: string[] = [];
  const record = (text: string) => {
    const parsed = parseRfc5424(text);
    if (parsed) messages.push(parsed);
    else errors.push(`not RFC 5424: ${text.slice(0, 80)}`);
  };
  let close: () => Promise<void>;
  let port: number;
  if (options.protocol === 'udp') {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg) => record(msg.toString()));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    port = socket.address().port;
    close = () => new Promise((resolve) => socket.close(() => resolve()));
  } else {
    const sockets = new Set<net.Socket>();
    const onConnection = (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const space = buffer.indexOf(0x20);
          if (space < 0) break;
          const header = buffer.subarray(0, space).toString();
          if (!/^[1-9][0-9]*$/.test(header)) {
            errors.push(`bad octet count: ${header.slice(0, 20)}`);
            buffer = Buffer.alloc(0);
            break;
          }
          const length = Number(header);
          if (buffer.length < space + 1 + length) break;
          record(buffer.subarray(space + 1, space + 1 + length).toString());
          buffer = buffer.subarray(space + 1 + length);
        }
      });
    };
    const server = options.protocol === 'tls' ? tls.createServer({ cert: options.cert, key: options.key }, onConnection) : net.createServer(onConnection);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    close = () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
  }
  return {
    port,
    messages,
    errors,
    async waitFor(count, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > until) throw new Error(`waited for ${count} syslog messages, got ${messages.length}; errors: ${errors.join('; ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => close(),
  };
}
