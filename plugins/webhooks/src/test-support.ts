import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Policy, StoredTarget } from './policy-store.js';
import type { WebhooksService } from './services.js';
import { newSigningSecret } from './signing.js';
import { AUTH_CONTEXT, SECRET_CONTEXT } from './worker.js';

/** One request a {@link Receiver} got. */
export interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly at: number;
}

/**
 * A real HTTP receiver on 127.0.0.1: records every POST and answers what `respond` says (200 by
 * default, after `delayMs`). `close()` and `reopen()` take it down and back on the same port.
 */
export class Receiver {
  readonly requests: Received[] = [];
  respond: (req: Received, index: number) => number = () => 200;
  delayMs = 0;
  private server: http.Server | undefined;
  private constructor(public port: number) {}

  static async start(): Promise<Receiver> {
    const r = new Receiver(0);
    await r.listen();
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  private async listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = JSON.parse(body); } catch { json = undefined; }
        const got: Received = { headers: req.headers, body, json, at: Date.now() };
        const index = this.requests.push(got) - 1;
        const status = this.respond(got, index);
        const answer = () => { res.statusCode = status; res.end('ok'); };
        if (this.delayMs > 0) setTimeout(answer, this.delayMs);
        else answer();
      });
    });
    server.keepAliveTimeout = 1;
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async reopen(): Promise<void> {
    await this.listen();
  }

  /** Waits until `count` requests matching `filter` arrived. */
  async waitFor(count: number, filter: (r: Received) => boolean = () => true, timeoutMs = 20_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.requests.filter(filter);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) throw new Error(`receiver got ${matching.length} of ${count} expected requests (${this.requests.length} in all)`);
      await sleep(25);
    }
  }
}

/** Creates a policy straight through the stores (no API, no RBAC): tests of delivery. */
export async function createPolicy(
  svc: WebhooksService,
  project: string,
  options: { name?: string; eventTypes?: string[]; targets: Array<Partial<StoredTarget> & { address: string; authHeader?: string }>; enabled?: boolean },
): Promise<{ policy: Policy; secret: string }> {
  const secret = newSigningSecret();
  const targets: StoredTarget[] = options.targets.map(({ authHeader, ...t }) => ({
    type: 'http',
    skipCertVerify: false,
    payloadFormat: 'Default',
    ...t,
    ...(authHeader ? { authHeaderSealed: svc.box.seal(authHeader, AUTH_CONTEXT) } : {}),
  }));
  const policy = await svc.policies.create(
    project,
    { name: options.name ?? `p-${Math.random().toString(36).slice(2, 8)}`, description: '', enabled: options.enabled ?? true, eventTypes: options.eventTypes ?? ['PUSH_ARTIFACT'], targets },
    svc.box.seal(secret, SECRET_CONTEXT),
    'test',
  );
  return { policy, secret };
}

/** Waits until `check` holds. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
