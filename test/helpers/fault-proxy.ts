import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';

/**
 * A small HTTP proxy in front of an upstream registry, for tests of what a client of that
 * upstream does when it misbehaves. It counts every request by method and path (so a test can
 * say "each blob GET reached the upstream once") and can be switched at runtime to answer 429
 * (with Retry-After), 503, hang without answering, or refuse connections. Forwarding streams both
 * ways (no body is buffered) and passes the Host header on unchanged, so the upstream's Location
 * headers and auth realms point back through the proxy.
 */

export type FaultMode =
  | { kind: 'forward' }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  | { kind: 'hang' }
  | { kind: 'refuse' };

export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** The status sent to the client; 0 when none was (hung, or the upstream failed). */
  status: number;
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Every request that reached the proxy (refused connections never do), oldest first. */
  readonly requests: readonly RecordedRequest[];
  /** Switches the behaviour; applies to requests that arrive from now on. */
  setMode(mode: FaultMode): Promise<void>;
  readonly mode: FaultMode;
  /** How many requests had this method and exactly this path (query ignored). */
  count(method: string, path: string): number;
  /** How many requests had this method and a path matching `pattern`. */
  countMatching(method: string, pattern: RegExp): number;
  /** Forgets the recorded requests. */
  resetCounts(): void;
  stop(): Promise<void>;
}

/** Headers that describe one hop, not the message. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEndHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Starts a proxy on a free port of 127.0.0.1 forwarding to `upstreamUrl` (http only). */
export async function startFaultProxy(upstreamUrl: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamUrl);
  if (upstream.protocol !== 'http:') throw new Error(`fault proxy: only http upstreams, not ${upstreamUrl}`);
  let mode: FaultMode = { kind: 'forward' };
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const record: RecordedRequest = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0]!, status: 0 };
    requests.push(record);
    res.once('finish', () => { record.status = res.statusCode; });
    if (mode.kind === 'hang' || mode.kind === 'refuse') {
      // A request that got in on a kept-alive connection before a switch to `refuse` hangs too
      // (its socket is destroyed right after the switch anyway).
      hanging.add(res);
      res.once('close', () => hanging.delete(res));
      req.resume();
      return;
    }
    if (mode.kind === 'status') {
      const body = JSON.stringify({ errors: [{ code: mode.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: `fault proxy answers ${mode.status}`, detail: null }] });
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      if (mode.retryAfterSeconds !== undefined) headers['retry-after'] = mode.retryAfterSeconds;
      req.resume();
      res.writeHead(mode.status, headers).end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    forward(req, res);
  };

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const out = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: endToEndHeaders(req.rawHeaders),
    });
    out.once('response', (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEndHeaders(upRes.rawHeaders));
      // A client that goes away mid-body aborts the upstream response too.
      pipeline(upRes, res).catch(() => { out.destroy(); });
    });
    out.once('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
      } else {
        const body = `fault proxy: upstream ${upstreamUrl} failed: ${err.message}`;
        res.writeHead(502, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body);
      }
    });
    pipeline(req, out).catch(() => { out.destroy(); });
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 5_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('fault proxy: no address');
  const port = address.port;
  let listening = true;

  const dropConnections = (): void => {
    for (const s of sockets) s.destroy();
    for (const r of hanging) r.destroy();
  };

  const setMode = async (next: FaultMode): Promise<void> => {
    const leavingHang = mode.kind === 'hang' && next.kind !== 'hang';
    mode = next;
    if (next.kind === 'refuse') {
      // Stop accepting (connect() then gets ECONNREFUSED) and drop the connections a client keeps.
      if (listening) {
        listening = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        dropConnections();
        await closed;
      }
      return;
    }
    if (leavingHang) for (const r of hanging) r.destroy();
    if (!listening) {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      listening = true;
    }
  };

  const matches = (method: string, test: (path: string) => boolean): number =>
    requests.filter((r) => r.method === method.toUpperCase() && test(r.path)).length;

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    requests,
    get mode() {
      return mode;
    },
    setMode,
    count: (method, path) => matches(method, (p) => p === path),
    countMatching: (method, pattern) => matches(method, (p) => pattern.test(p)),
    resetCounts: () => { requests.length = 0; },
    async stop() {
      if (listening) {
        listening = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        dropConnections();
        await closed;
      } else {
        dropConnections();
      }
    },
  };
}
