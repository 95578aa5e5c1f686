import http from 'node:http';
import assert from 'node:assert/strict';
import { sha256 } from './oci.js';

/** A thin OCI client over fetch for API tests, with assertions on the spec's responses. */
export class OciClient {
  constructor(readonly url: string) {}

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(new URL(path, this.url), { redirect: 'manual', ...init });
  }

  /** Pushes a blob with POST + PUT (monolithic). */
  async pushBlob(repo: string, data: Buffer, digest = sha256(data)): Promise<string> {
    const start = await this.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202, await start.text());
    const location = start.headers.get('location');
    assert.ok(location);
    const put = await this.fetch(withQuery(location, { digest }), {
      method: 'PUT',
      body: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(put.status, 201, await put.text());
    return digest;
  }

  async putManifest(repo: string, reference: string, body: Buffer, mediaType: string): Promise<Response> {
    return this.fetch(`/v2/${repo}/manifests/${reference}`, { method: 'PUT', body, headers: { 'content-type': mediaType } });
  }

  /** Pushes an image's blobs, then its manifest; asserts 201. */
  async pushImage(repo: string, ref: string, image: { config: Buffer; layer: Buffer; body: Buffer; mediaType: string }): Promise<void> {
    await this.pushBlob(repo, image.config);
    await this.pushBlob(repo, image.layer);
    const res = await this.putManifest(repo, ref, image.body, image.mediaType);
    assert.equal(res.status, 201, await res.text());
  }

  /** A raw request (for paths fetch would normalise, or bodies that lie about their length). */
  raw(method: string, path: string, options: { headers?: Record<string, string>; body?: Buffer; endEarly?: boolean } = {}) {
    const target = new URL(this.url);
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: target.hostname, port: target.port, method, path, headers: options.headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      if (options.body) req.write(options.body);
      if (options.endEarly) {
        // Announce more than we send, then drop the connection: a truncated upload.
        req.on('error', () => resolve({ status: 0, headers: {}, body: '' }));
        setTimeout(() => req.destroy(), 200);
        return;
      }
      req.on('error', reject);
      req.end();
    });
  }
}

export function withQuery(location: string, params: Record<string, string>): string {
  const u = new URL(location, 'http://placeholder');
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return `${u.pathname}${u.search}`;
}

/** Asserts an OCI error response: status and the first error code. */
export async function assertOciError(res: Response, status: number, code: string): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as { errors: { code: string }[] };
  assert.equal(body.errors[0]?.code, code, text);
}
