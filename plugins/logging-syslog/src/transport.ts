import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { octetCounted } from './rfc5424.js';

/**
 * Sends formatted messages to one receiver. UDP: one datagram per message (RFC 5426), cut at
 * `maxMessageBytes`. TCP and TLS: one connection, messages framed by octet counting (RFC 6587),
 * opened on the first send and again after a failure, at most once per `retryMs`. Every send
 * settles within `timeoutMs`; a failed one rejects, and the kernel counts its records as dropped.
 */

export interface TransportOptions {
  readonly protocol: 'udp' | 'tcp' | 'tls';
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly retryMs: number;
  readonly maxMessageBytes: number;
  readonly tls?: {
    readonly caFile?: string | undefined;
    readonly certFile?: string | undefined;
    readonly keyFile?: string | undefined;
    readonly rejectUnauthorized: boolean;
    readonly servername?: string | undefined;
  } | undefined;
  /** Resolves the TLS files. */
  readonly baseDir: string;
}

export interface Transport {
  send(messages: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

function truncate(message: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(message);
  return bytes.length <= maxBytes ? bytes : bytes.subarray(0, maxBytes);
}

function within<T>(promise: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} timed out after ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createUdpTransport(options: TransportOptions): Transport {
  let socket: dgram.Socket | undefined;
  const open = () => {
    socket ??= dgram.createSocket(net.isIPv6(options.host) ? 'udp6' : 'udp4');
    socket.on('error', () => undefined);
    socket.unref();
    return socket;
  };
  return {
    async send(messages) {
      const s = open();
      for (const message of messages) {
        await within(
          new Promise<void>((resolve, reject) => s.send(truncate(message, options.maxMessageBytes), options.port, options.host, (err) => (err ? reject(err) : resolve()))),
          options.timeoutMs,
          'syslog udp send',
          () => undefined,
        );
      }
    },
    async close() {
      socket?.close();
      socket = undefined;
    },
  };
}

export function createStreamTransport(options: TransportOptions): Transport {
  let socket: net.Socket | undefined;
  let connecting: Promise<net.Socket> | undefined;
  let retryAt = 0;
  let lastError = '';

  const connect = (): Promise<net.Socket> => {
    const t = options.tls;
    const file = (f: string | undefined) => (f ? readFileSync(path.resolve(options.baseDir, f)) : undefined);
    const s =
      options.protocol === 'tls'
        ? tls.connect({
            host: options.host,
            port: options.port,
            servername: t?.servername ?? (net.isIP(options.host) ? undefined : options.host),
            rejectUnauthorized: t?.rejectUnauthorized ?? true,
            ca: file(t?.caFile),
            cert: file(t?.certFile),
            key: file(t?.keyFile),
          })
        : net.connect({ host: options.host, port: options.port });
    s.setNoDelay(true);
    const ready = new Promise<net.Socket>((resolve, reject) => {
      s.once(options.protocol === 'tls' ? 'secureConnect' : 'connect', () => resolve(s));
      s.once('error', reject);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      if (socket === s) socket = undefined;
    });
    // Receivers may answer nothing; anything they send is read and ignored.
    s.on('data', () => undefined);
    return within(ready, options.timeoutMs, `syslog ${options.protocol} connect to ${options.host}:${options.port}`, () => s.destroy());
  };

  const ensure = async (): Promise<net.Socket> => {
    if (socket && !socket.destroyed) return socket;
    if (Date.now() < retryAt) throw new Error(`syslog receiver ${options.host}:${options.port} unreachable (${lastError}); retrying after ${options.retryMs} ms`);
    connecting ??= connect().finally(() => (connecting = undefined));
    try {
      socket = await connecting;
      return socket;
    } catch (err) {
      retryAt = Date.now() + options.retryMs;
      lastError = (err as Error).message;
      throw err;
    }
  };

  return {
    async send(messages) {
      const s = await ensure();
      const data = messages.map((m) => octetCounted(truncate(m, options.maxMessageBytes).toString())).join('');
      const written = new Promise<void>((resolve, reject) => {
        const cleanup = () => {
          s.off('error', onError);
          s.off('close', onClose);
          s.off('drain', onDrain);
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const onClose = () => {
          cleanup();
          reject(new Error('syslog connection closed'));
        };
        const onDrain = () => {
          cleanup();
          resolve();
        };
        s.on('error', onError);
        s.on('close', onClose);
        if (s.write(data)) onDrain();
        else s.on('drain', onDrain);
      });
      await within(written, options.timeoutMs, 'syslog write', () => s.destroy());
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (!s || s.destroyed) return;
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 1000).unref();
      });
    },
  };
}
