import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
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
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(new Error(`cannot listen on ${host || '*'}:${port}: ${err.message}`, { cause: err }));
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

/** Listens on `listen` (default: the config's) and serves the kernel's app. */
export async function serveKernel(kernel: Kernel, listen: string = kernel.config.server.listen): Promise<ServerHandle> {
  const { host, port } = parseListen(listen);
  const logger = kernel.logger;
  const server = http.createServer();
  server.requestTimeout = 0;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  let inFlight = 0;
  let draining = false;
  let idleWaiters: (() => void)[] = [];
  // Until the app exists (it needs the real public URL) requests get a 503.
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
  const url = urlForListen(`${host.includes(':') ? `[${host}]` : host}:${actual}`);
  // A derived public URL follows the real port; an explicitly configured one is kept.
  if (kernel.settings.publicUrl === urlForListen(kernel.config.server.listen)) kernel.setPublicUrl(url);
  handler = createApp(kernel).callback();
  logger.info({ url, publicUrl: kernel.settings.publicUrl }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutdown());

  async function shutdown(): Promise<void> {
    draining = true;
    const timeoutMs = kernel.config.server.shutdownTimeoutMs;
    logger.info({ inFlight, timeoutMs }, 'shutting down: draining requests');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      const drained = new Promise<boolean>((resolve) => idleWaiters.push(() => resolve(true)));
      const expired = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const ok = await Promise.race([drained, expired]);
      clearTimeout(timer);
      if (!ok) logger.warn({ inFlight }, 'shutdown timeout: closing remaining connections');
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
