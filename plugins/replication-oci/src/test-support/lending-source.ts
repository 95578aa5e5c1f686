import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Digest } from '@wharf/sdk';

const MiB = 1024 * 1024;

/**
 * A blob of `mib` random MiB from a source that lends ONE buffer, refilled with the next MiB as
 * soon as the write of the previous one calls back (what Wharf's fs storage does with its pool
 * when piped into a marked writable). The blob arrives intact only if no callback comes before
 * the writable is done with the chunk.
 */
export function lendingBlob(mib: number): { digest: Digest; size: number; source: Readable } {
  const parts = Array.from({ length: mib }, () => randomBytes(MiB));
  const digest = `sha256:${parts.reduce((hash, part) => hash.update(part), createHash('sha256')).digest('hex')}` as Digest;
  class LendingSource extends Readable {
    override pipe<T extends NodeJS.WritableStream>(destination: T): T {
      const shared = Buffer.alloc(MiB);
      let next = 0;
      const feed = (): void => {
        if (next === parts.length) {
          destination.end();
          return;
        }
        (parts[next++] as Buffer).copy(shared);
        destination.write(shared, (err) => {
          if (!err) feed();
        });
      };
      feed();
      return destination;
    }
  }
  return { digest, size: mib * MiB, source: new LendingSource({ read() {} }) };
}
