import type { ImageBlob, OciImage } from './fixtures/tiny-image.js';

/**
 * The few OCI Distribution calls a plugin test needs, with `fetch`: a monolithic blob upload
 * (POST, then PUT with the digest), a manifest PUT, a manifest and a blob GET. Every unexpected
 * status throws an {@link OciResponseError} carrying the status and the registry's error code.
 */

/**
 * Options of the OCI helpers.
 * @since 0.1.0
 */
export interface OciRequestOptions {
  /** Sent as the `Authorization` header, e.g. `Basic ...` or `Bearer ...`. */
  readonly authorization?: string | undefined;
}

/**
 * A response the helper did not expect.
 * @since 0.1.0
 */
export class OciResponseError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The first OCI error code of the body (`UNAUTHORIZED`, `MANIFEST_BLOB_UNKNOWN`, ...). */
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'OciResponseError';
  }
}

/** What {@link pushImage} returns. @since 0.1.0 */
export interface PushedImage {
  /** The manifest digest the registry answered with. */
  readonly digest: string;
  /** The manifest's URL (absolute). */
  readonly location: string;
}

/** What {@link pullManifest} returns. @since 0.1.0 */
export interface PulledManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly bytes: Buffer;
}

const ACCEPT_MANIFESTS = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

function headers(options: OciRequestOptions, extra: Record<string, string> = {}): Record<string, string> {
  return options.authorization ? { ...extra, authorization: options.authorization } : extra;
}

async function expectStatus(res: Response, expected: number, what: string): Promise<Response> {
  if (res.status === expected) return res;
  const text = await res.text().catch(() => '');
  let code: string | undefined;
  let detail = text.slice(0, 300);
  try {
    const first = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    code = first?.code;
    if (first) detail = `${first.code ?? ''}: ${first.message ?? ''}`;
  } catch {
    // Not an OCI error body: keep the text.
  }
  throw new OciResponseError(`${what}: expected ${expected}, got ${res.status}${detail ? ` (${detail})` : ''}`, res.status, code);
}

/**
 * Uploads one blob monolithically: `POST /v2/<repo>/blobs/uploads/`, then `PUT <location>?digest=`.
 * @since 0.1.0
 */
export async function pushBlob(url: string, repository: string, blob: ImageBlob, options: OciRequestOptions = {}): Promise<void> {
  const start = `${url}/v2/${repository}/blobs/uploads/`;
  const started = await expectStatus(await fetch(start, { method: 'POST', headers: headers(options) }), 202, `POST ${start}`);
  await started.arrayBuffer();
  const location = new URL(started.headers.get('location') ?? '', start);
  location.searchParams.set('digest', blob.digest);
  const put = await fetch(location, {
    method: 'PUT',
    headers: headers(options, { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) }),
    body: blob.bytes,
  });
  await (await expectStatus(put, 201, `PUT blob ${blob.digest}`)).arrayBuffer();
}

/**
 * Pushes an image (config and layers, then the manifest under `tag`).
 * @example
 * const { digest } = await pushImage(registry.url, 'library/tiny', 'v1', tinyImage());
 * @since 0.1.0
 */
export async function pushImage(url: string, repository: string, tag: string, image: OciImage, options: OciRequestOptions = {}): Promise<PushedImage> {
  for (const blob of [image.config, ...image.layers]) await pushBlob(url, repository, blob, options);
  const target = `${url}/v2/${repository}/manifests/${tag}`;
  const res = await fetch(target, {
    method: 'PUT',
    headers: headers(options, { 'content-type': image.manifest.mediaType }),
    body: image.manifest.bytes,
  });
  await (await expectStatus(res, 201, `PUT ${target}`)).arrayBuffer();
  return {
    digest: res.headers.get('docker-content-digest') ?? image.manifest.digest,
    location: new URL(res.headers.get('location') ?? target, target).href,
  };
}

/**
 * Fetches a manifest by tag or digest (OCI and Docker media types accepted).
 * @since 0.1.0
 */
export async function pullManifest(url: string, repository: string, reference: string, options: OciRequestOptions = {}): Promise<PulledManifest> {
  const target = `${url}/v2/${repository}/manifests/${reference}`;
  const res = await expectStatus(await fetch(target, { headers: headers(options, { accept: ACCEPT_MANIFESTS }) }), 200, `GET ${target}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { digest: res.headers.get('docker-content-digest') ?? '', mediaType: res.headers.get('content-type') ?? '', bytes };
}

/**
 * Fetches a blob's bytes (following a redirect to storage, if the driver sends one).
 * @since 0.1.0
 */
export async function pullBlob(url: string, repository: string, digest: string, options: OciRequestOptions = {}): Promise<Buffer> {
  const target = `${url}/v2/${repository}/blobs/${digest}`;
  const res = await expectStatus(await fetch(target, { headers: headers(options) }), 200, `GET ${target}`);
  return Buffer.from(await res.arrayBuffer());
}
