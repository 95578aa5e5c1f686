import { sha256 } from './hash.js';
import { basicAuth, type RegistryHandle } from './server.js';

/** Small Distribution-API calls made with fetch, for flows no installed client covers. */

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
}

export async function request(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(30_000) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A one-line-per-field description for assertion messages. */
export function describeHttp(what: string, r: HttpResult): string {
  const headers = [...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  return `${what} → ${r.status}\n${headers}\n\n${r.text.slice(0, 4000)}`;
}

/** Where requests go, and as whom: a registry handle (Wharf's carries its administrator). */
export type Target = Pick<RegistryHandle, 'url' | 'admin'>;

/** `init` with the target's Basic credentials added (Wharf accepts Basic on /v2/ as docker does). */
export function asAdmin(target: Target, init: RequestInit = {}): RequestInit {
  if (!target.admin) return init;
  const headers = new Headers(init.headers);
  headers.set('authorization', basicAuth(target.admin));
  return { ...init, headers };
}

/** A request to `path` on the target, sent with its credentials. */
export function registryRequest(target: Target, path: string, init: RequestInit = {}): Promise<HttpResult> {
  return request(new URL(path, target.url).href, asAdmin(target, init));
}

/** Resolves an upload Location (relative or absolute) against the registry URL. */
export function uploadUrl(base: string, location: string | null): URL {
  if (!location) throw new Error('upload response has no Location header');
  return new URL(location, base);
}

/** Monolithic upload in two steps (POST, then PUT ?digest= with the body); returns the digest. */
export async function pushBlob(target: Target, repo: string, data: Uint8Array | string): Promise<{ digest: string; size: number }> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const digest = sha256(bytes);
  const start = await registryRequest(target, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(describeHttp(`POST /v2/${repo}/blobs/uploads/`, start));
  const url = uploadUrl(target.url, start.headers.get('location'));
  url.searchParams.set('digest', digest);
  const put = await request(url.href, asAdmin(target, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
  }));
  if (put.status !== 201) throw new Error(describeHttp(`PUT ${url.pathname}?digest=`, put));
  return { digest, size: bytes.length };
}

export async function putManifest(
  target: Target, repo: string, reference: string, body: string, mediaType: string,
): Promise<HttpResult> {
  return registryRequest(target, `/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': mediaType },
  });
}
