import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Hash } from 'node:crypto';
import { RegistryError } from '@wharf/sdk';

/**
 * Passes bytes through while hashing and counting them, and fails the stream when more than
 * `limit` bytes arrive (a client that lies about Content-Length or Content-Range).
 */
export class MeteredStream extends Transform {
  bytes = 0;

  constructor(
    private readonly hash: Hash | undefined,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(new RegistryError('SIZE_INVALID', 'body is longer than announced', { status: 400 }));
      return;
    }
    this.hash?.update(chunk);
    callback(null, chunk);
  }
}

/** Reads a stream fully into a Buffer, refusing more than `limit` bytes (manifests only). */
export async function readLimited(stream: Readable, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limit) {
      stream.destroy();
      throw tooLarge();
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}

/** Hashes a whole stream with the given algorithm, returning `algorithm:hex`. */
export async function digestStream(stream: Readable, algorithm: 'sha256' | 'sha512'): Promise<string> {
  const { createHash } = await import('node:crypto');
  const hash = createHash(algorithm);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}
