import { BlobNotFoundError, RegistryError, type Digest } from '@wharf/sdk';
import { requireDigest } from '../../../registry/names.js';
import { actorOf, respondEmpty, type RouteArgs } from './context.js';
import { parseRangeHeader } from './http-ranges.js';

/** GET and HEAD `/v2/<name>/blobs/<digest>`, with `Range` support (206/416). */
export async function getBlob(args: RouteArgs): Promise<void> {
  const { ctx, name, params, services } = args;
  const digest = requireDigest(params[0]);
  const { metadata, storage } = services.deps;
  const blob = await metadata.getLinkedBlob(name, digest);
  if (!blob) return fetchElsewhere(args, digest);
  const range = parseRangeHeader(ctx.get('range') || undefined, blob.size);
  ctx.set('Docker-Content-Digest', digest);
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('ETag', `"${digest}"`);
  ctx.set('Cache-Control', 'max-age=31536000');
  if (ctx.method === 'GET' && storage.redirectUrl) {
    const url = await storage.redirectUrl(digest, { method: 'GET', expiresInSeconds: 1200 });
    if (url) {
      respondEmpty(ctx, 307, { Location: url });
      return;
    }
  }
  ctx.status = range ? 206 : 200;
  ctx.type = 'application/octet-stream';
  if (range) ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`);
  const length = range ? range.end - range.start + 1 : blob.size;
  if (ctx.method === 'HEAD') {
    ctx.set('Content-Length', String(length));
    return;
  }
  try {
    ctx.body = await storage.read(digest, range);
  } catch (err) {
    // Linked in the index but gone from storage: report it as unknown rather than a 500.
    if (err instanceof BlobNotFoundError) throw new RegistryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
    throw err;
  }
  ctx.length = length;
}

/**
 * A blob the repository lacks: a `registry.fetchBlob` tap (a pull-through cache) may serve it
 * from elsewhere, whole (no ranges); without an answer it is unknown.
 */
async function fetchElsewhere({ ctx, name, services }: RouteArgs, digest: Digest): Promise<void> {
  const hook = services.deps.hooks.registry.fetchBlob;
  const unknown = () => new RegistryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
  if (!hook.isUsed()) throw unknown();
  const method = ctx.method === 'HEAD' ? 'HEAD' : 'GET';
  const source = await hook.promise({ repository: name, digest, method, ...actorOf(ctx) });
  if (!source) throw unknown();
  ctx.status = 200;
  ctx.type = 'application/octet-stream';
  ctx.set('Docker-Content-Digest', digest);
  ctx.set('ETag', `"${digest}"`);
  for (const [key, value] of Object.entries(source.headers ?? {})) ctx.set(key, value);
  if (method === 'HEAD' || !source.stream) {
    source.stream?.destroy();
    ctx.set('Content-Length', String(source.size));
    return;
  }
  ctx.body = source.stream;
  ctx.length = source.size;
}

/** DELETE `/v2/<name>/blobs/<digest>`: unlinks the blob from the repository; GC frees the bytes. */
export async function deleteBlob({ ctx, name, params, services }: RouteArgs): Promise<void> {
  services.manifests.assertDeletesEnabled();
  const digest = requireDigest(params[0]);
  const { metadata, hooks } = services.deps;
  if (!(await metadata.getLinkedBlob(name, digest))) throw new RegistryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
  await hooks.registry.beforeDelete.promise({ repository: name, target: { kind: 'blob', digest }, ...actorOf(ctx) });
  if (!(await metadata.unlinkBlob(name, digest))) throw new RegistryError('BLOB_UNKNOWN', undefined, { detail: { digest } });
  respondEmpty(ctx, 202);
}
