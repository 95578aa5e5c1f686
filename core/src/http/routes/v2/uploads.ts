import { RegistryError, type Digest } from '@wharf/sdk';
import { assertRepositoryName, requireDigest } from '../../../registry/names.js';
import { uploadHeaders, type ChunkInfo } from '../../../registry/upload-service.js';
import { actorOf, emit, logOf, respondEmpty, type RouteArgs, type V2Context } from './context.js';
import { announcesBody } from '../../integers.js';
import { contentLength, parseContentRange } from './http-ranges.js';

function singleQuery(ctx: V2Context, key: string): string | undefined {
  const value = ctx.query[key];
  if (Array.isArray(value)) throw new RegistryError('UNSUPPORTED', `${key} may be given once`, { status: 400 });
  return value;
}

function chunkOf(ctx: V2Context): ChunkInfo {
  return { range: parseContentRange(ctx.get('content-range') || undefined), length: contentLength(ctx.get('content-length') || undefined) };
}

/** True when the request carries a body (a length above zero, or chunked transfer encoding). */
function hasBody(ctx: V2Context): boolean {
  return announcesBody(ctx.get('content-length'), ctx.get('transfer-encoding'));
}

/** Who holds an upload, for the per-user bound: the principal, or an anonymous client's address. */
function ownerOf(ctx: V2Context): string {
  const { principal, request } = actorOf(ctx);
  return principal.kind === 'anonymous' ? `anonymous@${request.ip}` : `${principal.provider}:${principal.subject}`;
}

function committed(args: RouteArgs, digest: Digest, size: number, mounted: boolean): void {
  const { ctx, name, services } = args;
  respondEmpty(ctx, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
  const actor = actorOf(ctx);
  emit(services.deps.hooks.registry.blobCommitted, {
    id: crypto.randomUUID(), timestamp: new Date(), repository: name, actor: actor.principal, request: actor.request,
    digest, size, mounted,
  }, logOf(ctx, services.deps), 'blobCommitted');
}

/**
 * POST `/v2/<name>/blobs/uploads/`: starts an upload (202), or mounts a blob from another
 * repository (`?mount=&from=`, 201, falling back to an upload), or stores a whole blob sent in
 * this one request (`?digest=`, 201).
 */
export async function startUpload(args: RouteArgs): Promise<void> {
  const { ctx, name, services } = args;
  const mount = singleQuery(ctx, 'mount');
  const from = singleQuery(ctx, 'from');
  const digestParam = singleQuery(ctx, 'digest');
  const gate = services.deps.hooks.registry.beforeUploadStart;
  if (gate.isUsed()) {
    await gate.promise({ repository: name, from: mount !== undefined ? from : undefined, ...actorOf(ctx) }).catch((err: unknown) => {
      ctx.req.resume();
      throw err;
    });
  }
  if (mount !== undefined && from !== undefined) {
    const digest = requireDigest(mount, 'mount');
    assertRepositoryName(from);
    const blob = await services.uploads.mount(name, from, digest, actorOf(ctx));
    if (blob) return committed(args, digest, blob.size, true);
  }
  if (digestParam !== undefined) {
    const digest = requireDigest(digestParam);
    const upload = await services.uploads.start(name, ownerOf(ctx));
    try {
      const { size } = await services.uploads.finish(name, upload.id, digest, hasBody(ctx) ? ctx.req : undefined, chunkOf(ctx), actorOf(ctx));
      return committed(args, digest, size, false);
    } catch (err) {
      await services.uploads.cancel(name, upload.id).catch(() => undefined);
      throw err;
    }
  }
  const upload = await services.uploads.start(name, ownerOf(ctx));
  respondEmpty(ctx, 202, uploadHeaders(upload));
}

/** PATCH `/v2/<name>/blobs/uploads/<id>`: appends a chunk (with `Content-Range`) or a stream (without). */
export async function patchUpload({ ctx, name, params, services }: RouteArgs): Promise<void> {
  const upload = await services.uploads.append(name, params[0] ?? '', ctx.req, chunkOf(ctx));
  respondEmpty(ctx, 202, uploadHeaders(upload));
}

/** PUT `/v2/<name>/blobs/uploads/<id>?digest=`: the optional last chunk, then verify and commit. */
export async function finishUpload(args: RouteArgs): Promise<void> {
  const { ctx, name, params, services } = args;
  const digest = requireDigest(singleQuery(ctx, 'digest'));
  const { size } = await services.uploads.finish(name, params[0] ?? '', digest, hasBody(ctx) ? ctx.req : undefined, chunkOf(ctx), actorOf(ctx));
  committed(args, digest, size, false);
}

/** GET `/v2/<name>/blobs/uploads/<id>`: where the upload stands (204 with `Range`). */
export async function uploadStatus({ ctx, name, params, services }: RouteArgs): Promise<void> {
  const upload = await services.uploads.get(name, params[0] ?? '');
  respondEmpty(ctx, 204, uploadHeaders(upload));
}

/** DELETE `/v2/<name>/blobs/uploads/<id>`: cancels the upload. */
export async function cancelUpload({ ctx, name, params, services }: RouteArgs): Promise<void> {
  await services.uploads.cancel(name, params[0] ?? '');
  respondEmpty(ctx, 204);
}
