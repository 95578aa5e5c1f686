import { createServer, request as httpRequest, type Server } from 'node:http';
import { rbacProjectsPlugin } from '@wharf/plugin-rbac-projects';
import { replicationPlugin } from '@wharf/plugin-replication';
import { replicationOciPlugin } from '@wharf/plugin-replication-oci';
import { metricsPlugin } from '@wharf/plugin-metrics';
import { basicAuth, callApi, startTestRegistry, type TestDatabase, type TestRegistry } from '@wharf/sdk-testing';
import { proxyCachePlugin } from './index.js';

export { assertApiError, basicAuth, callApi } from '@wharf/sdk-testing';

/** Helpers of the plugin's tests: a Wharf with users, projects, replication and this plugin. */

export const ADMIN_PASSWORD = 'Admin-Passw0rd';
export const admin = basicAuth('admin', ADMIN_PASSWORD);

export async function bootProxyRegistry(db: TestDatabase, options: { proxyCache?: Record<string, unknown> } = {}): Promise<TestRegistry> {
  const before = process.env.WHARF_ADMIN_PASSWORD;
  process.env.WHARF_ADMIN_PASSWORD = ADMIN_PASSWORD;
  try {
    return await startTestRegistry({
      config: {
        database: { ...db.config },
        auth: [{ db: {} }],
        token: { enabled: false },
        rbac: { projects: {} },
        replication: { oci: {} },
        extensions: { replication: {}, metrics: {}, 'proxy-cache': { upstreamTimeoutSeconds: 2, settingsCacheMs: 0, ...options.proxyCache } },
      },
      plugins: [rbacProjectsPlugin, replicationOciPlugin, replicationPlugin, metricsPlugin, proxyCachePlugin],
    });
  } finally {
    if (before === undefined) delete process.env.WHARF_ADMIN_PASSWORD;
    else process.env.WHARF_ADMIN_PASSWORD = before;
  }
}

/** Makes `project` and a registry endpoint `endpoint` for `url`, then the project a proxy of it. */
export async function proxyProject(registry: TestRegistry, project: string, endpoint: string, url: string, pathPrefix?: string): Promise<void> {
  const api = (method: string, path: string, body?: unknown) => callApi(registry.url, method, `/api/v1${path}`, { auth: admin, ...(body === undefined ? {} : { body }) });
  const created = await api('POST', '/projects', { name: project });
  if (created.status !== 201) throw new Error(`project ${project}: ${created.status} ${JSON.stringify(created.body)}`);
  const registered = await api('POST', '/registries', { name: endpoint, type: 'oci', url });
  if (registered.status !== 201) throw new Error(`endpoint ${endpoint}: ${registered.status} ${JSON.stringify(registered.body)}`);
  const proxied = await api('PUT', `/projects/${project}/proxy-cache`, { upstreams: [{ registry: endpoint, ...(pathPrefix ? { pathPrefix } : {}) }] });
  if (proxied.status !== 200) throw new Error(`proxy ${project}: ${proxied.status} ${JSON.stringify(proxied.body)}`);
}

/**
 * A small HTTP proxy in front of an upstream registry that counts requests and can misbehave:
 * answer every request with a status (429, 503), or flip a byte in blob bodies (a corrupt
 * upstream), or hold blob bodies until released (so concurrent pulls overlap).
 */
export interface FaultProxy {
  readonly url: string;
  /** Requests seen, as `METHOD path`. */
  readonly seen: string[];
  mode: 'pass' | { status: number } | 'corrupt-blobs';
  /** While set, blob GET answers wait for it before sending their body. */
  gate: Promise<void> | undefined;
  count(method: string, pathPart: string): number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const proxy: FaultProxy = {
    url: '',
    seen: [],
    mode: 'pass',
    gate: undefined,
    count: (method, part) => proxy.seen.filter((s) => s.startsWith(`${method} `) && s.includes(part)).length,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    proxy.seen.push(`${req.method} ${req.url}`);
    const mode = proxy.mode;
    if (typeof mode === 'object') {
      req.resume();
      res.writeHead(mode.status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: mode.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: 'fault proxy' }] }));
      return;
    }
    const isBlob = req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '');
    const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, async (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (isBlob && proxy.gate) await proxy.gate;
      let first = true;
      answer.on('data', (chunk: Buffer) => {
        if (isBlob && mode === 'corrupt-blobs' && first && chunk.length > 0) {
          chunk = Buffer.from(chunk);
          chunk[0] = chunk[0]! ^ 0xff;
        }
        first = false;
        res.write(chunk);
      });
      answer.on('end', () => res.end());
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  (proxy as { url: string }).url = `http://127.0.0.1:${address.port}`;
  return proxy;
}
