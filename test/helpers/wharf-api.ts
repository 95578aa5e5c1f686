import { describeHttp, request, type HttpResult, type Target } from './oci-http.js';
import { basicAuth, type Credentials, type RegistryHandle } from './server.js';

/**
 * Wharf's management API (/api/v1) as the e2e tests use it: the administrator sets up projects,
 * users and robots the way an operator would before clients push.
 */

/** The project every e2e repository lives in (see uniqueRepo). */
export const E2E_PROJECT = 'e2e';

/** A JSON call to /api/v1 as `who` (the administrator by default); throws unless `expect` matches. */
export async function api(
  target: Target, method: string, path: string, body?: unknown,
  opts: { as?: Credentials; expect?: number } = {},
): Promise<HttpResult & { json: unknown }> {
  const who = opts.as ?? target.admin;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (who) headers['authorization'] = basicAuth(who);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(new URL(`/api/v1${path}`, target.url).href, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (opts.expect !== undefined && res.status !== opts.expect) {
    throw new Error(`expected ${opts.expect}: ${describeHttp(`${method} /api/v1${path}`, res)}`);
  }
  return { ...res, json: res.text ? JSON.parse(res.text) : undefined };
}

/**
 * Prepares a registry for the client tests: on Wharf (which is secure by default) the `e2e`
 * project is created as a private project; an open reference registry needs nothing.
 */
export async function prepareE2eProject(srv: RegistryHandle): Promise<void> {
  if (!srv.admin) return;
  await api(srv, 'POST', '/projects', { name: E2E_PROJECT }, { expect: 201 });
}

