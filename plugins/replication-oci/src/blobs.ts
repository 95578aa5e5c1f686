import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { ReplicationTargetError, type BlobReader, type Digest } from '@wharf/sdk';
import { pull, push } from './auth/scopes.js';
import { protocolError } from './client/errors.js';
import { headerOf, type Answer, type Operation, type RegistryClient } from './client/http.js';
import { checkDigest, VerifyingStream } from './digest.js';
import { checkRepository } from './names.js';

/**
 * Blobs, always streamed: reads follow redirects (object storage) and are verified on the fly,
 * through Node's HTTP client (see client/bulk.ts `get`); writes are one streamed PATCH (as
 * skopeo does, through the same client)
 * or fixed-size chunks, with one chunk in memory.
 */

function blobPath(repository: string, digest: Digest): string {
  return `/v2/${checkRepository(repository)}/blobs/${checkDigest(digest)}`;
}

function uploadsPath(repository: string): string {
  return `/v2/${checkRepository(repository)}/blobs/uploads/`;
}

async function drain(answer: Answer): Promise<void> {
  await answer.body.dump().catch(() => undefined);
}

export async function hasBlob(client: RegistryClient, repository: string, digest: Digest): Promise<boolean> {
  const op: Operation = { name: `hasBlob ${repository}@${digest}`, scopes: [pull(repository)] };
  // A redirect means the registry has the blob; following it could fail (a presigned URL for GET refuses HEAD).
  const answer = await client.expect(op, { method: 'HEAD', url: blobPath(repository, digest) }, [200, 404, 301, 302, 303, 307, 308]);
  await drain(answer);
  return answer.status !== 404;
}

export async function readBlob(client: RegistryClient, repository: string, digest: Digest, signal?: AbortSignal, verify = true): Promise<BlobReader> {
  const op: Operation = { name: `readBlob ${repository}@${digest}`, scopes: [pull(repository)] };
  const answer = await client.expect(op, { method: 'GET', url: blobPath(repository, digest), followRedirects: true, signal, bulk: true }, [200]);
  const size = Number(headerOf(answer, 'content-length'));
  if (!Number.isSafeInteger(size) || size < 0) {
    answer.body.destroy();
    throw protocolError(client.ctx(op.name), 'the blob answer has no Content-Length', 'REMOTE_ERROR');
  }
  const verified = new VerifyingStream(digest, size, (what) => protocolError(client.ctx(op.name), what, 'REMOTE_ERROR'), verify);
  // Errors reach the consumer through `verified`; destroying it closes the connection.
  pipeline(answer.body, verified, () => undefined);
  return { size, stream: verified };
}

/** The upload URL of a 202 answer, resolved against the request URL (it may be relative). */
function locationOf(client: RegistryClient, op: Operation, answer: Pick<Answer, 'status' | 'headers' | 'url'>): URL {
  const location = headerOf(answer, 'location');
  if (!location) throw protocolError(client.ctx(op.name), `HTTP ${answer.status} without a Location header`, 'REMOTE_ERROR');
  return new URL(location, answer.url);
}

async function cancelUpload(client: RegistryClient, op: Operation, location: URL): Promise<void> {
  try {
    await drain(await client.send(op, { method: 'DELETE', url: location }));
  } catch {
    // Best effort: the registry expires abandoned sessions anyway.
  }
}

export async function mountBlob(client: RegistryClient, repository: string, digest: Digest, fromRepository: string): Promise<boolean> {
  const op: Operation = { name: `mountBlob ${repository}@${digest} from ${fromRepository}`, scopes: [push(repository), pull(checkRepository(fromRepository))] };
  const url = client.resolve(uploadsPath(repository));
  url.searchParams.set('mount', checkDigest(digest));
  url.searchParams.set('from', fromRepository);
  const answer = await client.expect(op, { method: 'POST', url, headers: { 'content-length': '0' } }, [201, 202]);
  await drain(answer);
  if (answer.status === 201) return true;
  // Declined: the registry opened an ordinary upload session instead; close it.
  await cancelUpload(client, op, locationOf(client, op, answer));
  return false;
}

/** Counts the bytes passing through and refuses more than `size`. */
class SizeGuard extends Transform {
  seen = 0;
  constructor(private readonly size: number, private readonly tooMany: () => Error) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.size) done(this.tooMany());
    else done(null, chunk);
  }
}

/** Fixed-size chunks of a stream, in one reused buffer: the consumer must be done with a chunk before asking for the next. */
async function* chunksOf(source: AsyncIterable<Buffer>, chunkSize: number, total: number): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(chunkSize, total)));
  let filled = 0;
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(buffer.length - filled, piece.length - offset);
      piece.copy(buffer, filled, offset, offset + take);
      filled += take;
      offset += take;
      if (filled === buffer.length) {
        yield buffer;
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

export interface WriteOptions {
  readonly chunkSize?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** PATCHes fixed-size chunks of `source` with their ranges; resolves the next upload location. */
async function sendChunks(client: RegistryClient, op: Operation, source: SizeGuard, location: URL, chunkSize: number, size: number, signal: AbortSignal | undefined): Promise<URL> {
  let offset = 0;
  for await (const chunk of chunksOf(source, chunkSize, size)) {
    const end = offset + chunk.length - 1;
    const answer = await client.expect(
      op,
      {
        method: 'PATCH',
        url: location,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(chunk.length), 'content-range': `${offset}-${end}` },
        body: chunk,
        signal,
      },
      [202, 204],
    );
    await drain(answer);
    const range = headerOf(answer, 'range');
    if (range && !new RegExp(`^(bytes=)?0-${end}$`).test(range)) {
      throw protocolError(client.ctx(op.name), `the registry holds ${range} after a chunk ending at ${end}`, 'REMOTE_ERROR');
    }
    location = locationOf(client, op, answer);
    offset += chunk.length;
  }
  return location;
}

export async function writeBlob(client: RegistryClient, repository: string, digest: Digest, size: number, data: Readable, options: WriteOptions = {}): Promise<void> {
  const op: Operation = { name: `writeBlob ${repository}@${digest}`, scopes: [push(repository)] };
  const { signal } = options;
  checkDigest(digest);
  if (!Number.isSafeInteger(size) || size < 0) throw new ReplicationTargetError('INVALID', `${client.label}: ${op.name}: invalid size ${size}`, { retryable: false });
  const mismatch = (seen: number) =>
    new ReplicationTargetError('INVALID', `${client.label}: ${op.name} failed: the source stream held ${seen} bytes, not ${size}`, { retryable: false });
  // A whole-blob upload takes the source as it is (so a storage stream can lend its buffers to
  // the request); until then only an error listener is attached, which does not start the flow.
  // A chunked upload (or the empty blob) reads through a guard that counts the bytes.
  const streamed = size > 0 && options.chunkSize === undefined;
  let early: unknown;
  const keepEarlyError = (err: unknown) => {
    early ??= err;
  };
  let guard: SizeGuard | undefined;
  if (streamed) {
    data.on('error', keepEarlyError);
  } else {
    guard = new SizeGuard(size, () => mismatch(size + 1));
    // Errors of `data` (the source failing) reach the chunks through the guard.
    pipeline(data, guard, () => undefined);
  }

  let location: URL | undefined;
  try {
    // The POST has no body, so it is where a challenge is answered before any blob byte is sent.
    const started = await client.expect(op, { method: 'POST', url: uploadsPath(repository), headers: { 'content-length': '0' }, signal }, [202]);
    await drain(started);
    location = locationOf(client, op, started);

    if (!guard) {
      data.off('error', keepEarlyError);
      if (early !== undefined || data.destroyed) {
        throw early ?? new ReplicationTargetError('INVALID', `${client.label}: ${op.name} failed: the source stream closed before the upload began`, { retryable: false });
      }
      const answer = await client.upload(op, location, size, data, { signal, mismatch }, [202, 204]);
      answer.body.resume();
      location = locationOf(client, op, { ...answer, url: location });
    } else {
      // Chunks of a chunked upload, or nothing at all for the empty blob (whose stream must still end).
      if (size > 0) location = await sendChunks(client, op, guard, location, options.chunkSize ?? size, size, signal);
      else for await (const _ of guard);
      if (guard.seen !== size) throw mismatch(guard.seen);
    }

    const commit = new URL(location.href);
    commit.searchParams.set('digest', digest);
    await drain(await client.expect(op, { method: 'PUT', url: commit, headers: { 'content-length': '0' }, signal }, [201, 204]));
  } catch (err) {
    data.off('error', keepEarlyError);
    guard?.destroy();
    data.destroy();
    if (location) await cancelUpload(client, op, location);
    throw err;
  }
}
