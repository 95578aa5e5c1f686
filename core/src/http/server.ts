import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { KernelError } from '@wharf/sdk';
import { parseListen, urlForListen } from '../config/resolve.js';
import type { Kernel } from '../kernel/kernel.js';
import { createApp } from './app.js';

/**
 * The HTTP server of a booted kernel, and its graceful shutdown: stop accepting, let in-flight
 * requests finish for up to `server.shutdownTimeoutMs`, destroy what is left, run
 * `lifecycle.close`, dispose the container (which closes the database).
 */

/** Uploads are long: no whole-request timeout; headers must still arrive in reasonable time. */
export const HEADERS_TIMEOUT_MS = 120_000;
/** Longer than the usual 60 s idle timeout of load balancers, so they close first. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface ServerHandle {
  readonly server: http.Server;
  /** Base URL of the listening server (real port when listening on port 0). */
  readonly url: string;
  readonly port: number;
  /** Graceful stop; resolves when the kernel is closed. Idempotent. */
  close(): Promise<void>;
}

function listenOn(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(listenError(host, port, err));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    if (host) server.listen(port, host);
    else server.listen(port);
  });
}

/** Why a listen address cannot be used, in the operator's words (one line, no stack). */
export function listenError(host: string, port: number, err: NodeJS.ErrnoException): KernelError {
  const where = `${host.includes(':') ? `[${host}]` : host || '*'}:${port}`;
  const why =
    err.code === 'EADDRINUSE'
      ? 'the address is in use (another process listens there)'
      : err.code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : err.code === 'EADDRNOTAVAIL'
          ? 'this machine has no such address'
          : err.message;
  return new KernelError('REG_ERR_LISTEN', `server.listen: cannot listen on ${where}: ${why}`, { cause: err });
}

/**
 * A server listening on the configured address that answers 503 until a kernel is attached:
 * `wharf serve` binds before it boots, so a taken port fails before migrations or the admin
 * bootstrap ran, and no other process can take the port while the kernel boots.
 */
export interface BoundServer {
  readonly server: http.Server;
  /** The real port (when listening on port 0). */
  readonly port: number;
  /** Base URL a local client would use. */
  readonly url: string;
  /** Closes the listener (a boot that failed). */
  close(): Promise<void>;
}

interface BoundInternals {
  setHandler(handler: http.RequestListener): void;
  inFlight(): number;
  draining(on: boolean): void;
  waitIdle(): Promise<void>;
}

const internals = new WeakMap<BoundServer, BoundInternals>();

/** Binds `listen` (`host:port`); fails with `REG_ERR_LISTEN` when the address cannot be used. */
export async function bindServer(listen: string): Promise<BoundServer> {
  const { host, port } = parseListen(listen);
  const server = http.createServer();
  server.requestTimeout = 0;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  let inFlight = 0;
  let draining = false;
  let idleWaiters: (() => void)[] = [];
  // Until the app exists (the kernel is booting) requests get a 503.
  let handler: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight++;
    if (draining && !res.headersSent) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight--;
      if (draining) server.closeIdleConnections();
      if (inFlight === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        for (const w of waiters) w();
      }
    });
    handler(req, res);
  });

  await listenOn(server, host, port);
  const actual = (server.address() as AddressInfo).port;
  const bound: BoundServer = {
    server,
    port: actual,
    url: urlForListen(`${host.includes(':') ? `[${host}]` : host}:${actual}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  internals.set(bound, {
    setHandler: (h) => (handler = h),
    inFlight: () => inFlight,
    draining: (on) => (draining = on),
    waitIdle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
  });
  return bound;
}

/**
 * Serves the kernel's app on `listen` (default: the config's), or on a server bound earlier
 * with {@link bindServer}.
 */
export async function serveKernel(kernel: Kernel, listen: string | BoundServer = kernel.config.server.listen): Promise<ServerHandle> {
  const logger = kernel.logger;
  const bound = typeof listen === 'string' ? await bindServer(listen) : listen;
  const inner = internals.get(bound);
  if (!inner) throw new TypeError('serveKernel: the server was not bound with bindServer');
  const io: BoundInternals = inner;
  const { server, url, port: actual } = bound;
  // A derived public URL follows the real port; an explicitly configured one is kept.
  if (kernel.settings.publicUrl === urlForListen(kernel.config.server.listen)) kernel.setPublicUrl(url);
  io.setHandler(createApp(kernel).callback());
  logger.info({ url, publicUrl: kernel.settings.publicUrl }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutdown());

  async function shutdown(): Promise<void> {
    io.draining(true);
    const timeoutMs = kernel.config.server.shutdownTimeoutMs;
    logger.info({ inFlight: io.inFlight(), timeoutMs }, 'shutting down: draining requests');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (io.inFlight() > 0) {
      let timer: NodeJS.Timeout | undefined;
      const drained = io.waitIdle().then(() => true);
      const expired = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const ok = await Promise.race([drained, expired]);
      clearTimeout(timer);
      if (!ok) logger.warn({ inFlight: io.inFlight() }, 'shutdown timeout: closing remaining connections');
    }
    server.closeAllConnections();
    await closed;
    await kernel.close();
  }

  return { server, url, port: actual, close };
}

/**
 * SIGTERM/SIGINT: graceful stop, then exit 0 (1 when the stop failed). A second signal exits
 * at once. Returns a function that removes the handlers.
 */
export function handleSignals(handle: Pick<ServerHandle, 'close'>, logger: Logger): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'signal received: stopping');
    handle.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
