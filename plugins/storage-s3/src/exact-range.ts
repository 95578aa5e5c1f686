import { Readable } from 'node:stream';
import type { ByteRange } from '@wharf/sdk';

/**
 * The bytes `[range.start, range.end]` of an object, from a response `body` whose first byte is
 * byte `servedFrom` of the object. Bytes before the range are skipped and the stream ends at
 * `range.end`, whatever the store sent: s3rver answers `Range: bytes=0-0` with the whole object,
 * and a store that ignores `Range` answers 200 from byte 0. A body that ends before the range
 * does fails the stream rather than passing for a complete read.
 */
export function exactRange(body: Readable, range: ByteRange, servedFrom: number, what: string): Readable {
  const wanted = range.end - range.start + 1;
  let skip = range.start - servedFrom;
  if (skip < 0) {
    body.destroy();
    throw new Error(`s3 storage: ${what}: asked for bytes from ${range.start}, the store answered from ${servedFrom}`);
  }
  let left = wanted;
  // An async generator keeps back-pressure and tears the body down when the consumer stops early.
  async function* cut(): AsyncGenerator<Buffer> {
    try {
      for await (const raw of body) {
        let chunk = raw as Buffer;
        if (skip > 0) {
          if (chunk.length <= skip) {
            skip -= chunk.length;
            continue;
          }
          chunk = chunk.subarray(skip);
          skip = 0;
        }
        if (chunk.length >= left) {
          yield chunk.subarray(0, left);
          left = 0;
          return;
        }
        left -= chunk.length;
        yield chunk;
      }
      if (left > 0) throw new Error(`s3 storage: ${what}: the store sent ${wanted - left} of ${wanted} bytes`);
    } finally {
      // Unread bytes (an early stop, or a store that sent more): the connection cannot be reused.
      if (!body.readableEnded) body.destroy();
    }
  }
  return Readable.from(cut(), { objectMode: false });
}
