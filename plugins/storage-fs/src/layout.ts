import path from 'node:path';
import { isUploadId, parseDigest, type Digest, type DigestAlgorithm } from '@wharf/sdk';

const PREFIX = /^[a-f0-9]{2}$/;

/**
 * Where things live under the storage root:
 * - `blobs/<alg>/<first two hex>/<hex>`: committed blobs;
 * - `uploads/<id>/data`: the bytes of an upload in progress.
 * Every path is built from a validated digest or upload id, never from raw input.
 */
export class FsLayout {
  readonly root: string;
  readonly blobsDir: string;
  readonly uploadsDir: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.blobsDir = path.join(this.root, 'blobs');
    this.uploadsDir = path.join(this.root, 'uploads');
  }

  blobPath(digest: Digest): string {
    const parsed = parseDigest(digest);
    if (!parsed.ok) throw new TypeError(`fs storage: invalid digest "${String(digest).slice(0, 140)}" (${parsed.reason})`);
    return path.join(this.blobsDir, parsed.algorithm, parsed.hex.slice(0, 2), parsed.hex);
  }

  algorithmDir(algorithm: DigestAlgorithm): string {
    return path.join(this.blobsDir, algorithm);
  }

  uploadDir(id: string): string {
    // Upload ids the sdk's grammar does not accept never reach a path.
    if (typeof id !== 'string' || !isUploadId(id)) throw new TypeError(`fs storage: invalid upload id "${String(id).slice(0, 140)}"`);
    return path.join(this.uploadsDir, id);
  }

  uploadData(id: string): string {
    return path.join(this.uploadDir(id), 'data');
  }

  /** The digest stored at `blobs/<algorithm>/<prefix>/<name>`, or `undefined` for a stray file. */
  static digestAt(algorithm: DigestAlgorithm, prefix: string, name: string): Digest | undefined {
    if (!PREFIX.test(prefix) || !name.startsWith(prefix)) return undefined;
    const parsed = parseDigest(`${algorithm}:${name}`);
    return parsed.ok ? parsed.digest : undefined;
  }
}
