import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Deterministic, incompressible-looking content of any length, generated on the fly:
 * byte `i` is `pattern[i % period]`. The odd period keeps chunk and pattern boundaries
 * from lining up, so a resumed upload that is off by a few bytes changes the digest.
 */
export class PatternSource {
  private readonly period: number;
  private readonly doubled: Buffer;

  constructor(period = 1024 * 1024 + 13) {
    this.period = period;
    const pattern = randomBytes(period);
    this.doubled = Buffer.concat([pattern, pattern]);
  }

  /** `length` bytes starting at `offset` (length ≤ period). The buffer is a view: don't modify it. */
  chunk(offset: number, length: number): Buffer {
    if (length > this.period) throw new Error('chunk longer than the pattern period');
    const start = offset % this.period;
    return this.doubled.subarray(start, start + length);
  }

  /** A Readable of bytes [start, end). */
  stream(start: number, end: number, chunkSize = 256 * 1024): Readable {
    let pos = start;
    const next = (): Buffer | null => {
      if (pos >= end) return null;
      const n = Math.min(chunkSize, end - pos);
      const chunk = this.chunk(pos, n);
      pos += n;
      return chunk;
    };
    return new Readable({
      read() {
        this.push(next());
      },
    });
  }

  /** sha256 of bytes [0, total), computed chunk by chunk. */
  digest(total: number, chunkSize = 1024 * 1024): string {
    const h = createHash('sha256');
    for (let pos = 0; pos < total; pos += chunkSize) h.update(this.chunk(pos, Math.min(chunkSize, total - pos)));
    return `sha256:${h.digest('hex')}`;
  }
}
