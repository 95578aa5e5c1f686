import { randomBytes } from 'node:crypto';
import { isUploadId, parseDigest, type Digest } from '@wharf/sdk';

/** A claim: "the blob `digest`, `size` bytes, is the data object of upload `uploadId`". */
export interface Claim {
  readonly key: string;
  readonly digest: Digest;
  readonly size: number;
  readonly uploadId: string;
}

const SEGMENT = /^(0|[1-9][0-9]{0,15})-[0-9a-f]{12}$/;
const CLAIM_NAME = /^(0|[1-9][0-9]{0,15})\.([A-Za-z0-9_-]{8,128})$/;

/**
 * Where things live in the bucket, under the configured prefix (see
 * docs/architecture/11-s3-storage.md):
 *
 * - `data/<upload id>`: the bytes of one upload. It becomes a blob's bytes in place, so a commit
 *   never copies them. Before the commit it is the multipart upload's target, or the upload's
 *   first segment.
 * - `blobs/<algorithm>/<hex>/<size>.<upload id>`: an empty claim object. The blob `<algorithm>:<hex>`
 *   exists while at least one claim does, and its bytes are `data/<upload id>`. Everything `list`,
 *   `stat` and `delete` need is in the key, so they never read an object body.
 * - `uploads/<upload id>/marker`: exists while the upload does (its small JSON body records a
 *   seal or a commit in progress); `uploads/<upload id>/<offset>-<nonce>`: later segments, bytes
 *   appended after the last full part and not yet part of one.
 *
 * Keys are only built from validated digests and upload ids.
 */
export class S3Layout {
  constructor(readonly prefix: string) {}

  get blobsPrefix(): string {
    return `${this.prefix}blobs/`;
  }

  /** The prefix under which every claim of `digest` sits. */
  claimsPrefix(digest: Digest): string {
    const parsed = parseDigest(String(digest));
    if (!parsed.ok) throw new TypeError(`s3 storage: invalid digest "${String(digest).slice(0, 140)}" (${parsed.reason})`);
    return `${this.blobsPrefix}${parsed.algorithm}/${parsed.hex}/`;
  }

  claimKey(digest: Digest, size: number, uploadId: string): string {
    return `${this.claimsPrefix(digest)}${size}.${checkId(uploadId)}`;
  }

  /** The claim at `key`, or `undefined` for a key that is not one (a stray object). */
  parseClaim(key: string): Claim | undefined {
    if (!key.startsWith(this.blobsPrefix)) return undefined;
    const [algorithm, hex, name, ...rest] = key.slice(this.blobsPrefix.length).split('/');
    if (rest.length > 0 || !algorithm || !hex || !name) return undefined;
    const parsed = parseDigest(`${algorithm}:${hex}`);
    const match = CLAIM_NAME.exec(name);
    if (!parsed.ok || !match) return undefined;
    return { key, digest: parsed.digest, size: Number(match[1]), uploadId: String(match[2]) };
  }

  dataKey(uploadId: string): string {
    return `${this.prefix}data/${checkId(uploadId)}`;
  }

  /** Everything of an upload but its data object. */
  scratchPrefix(uploadId: string): string {
    return `${this.prefix}uploads/${checkId(uploadId)}/`;
  }

  markerKey(uploadId: string): string {
    return `${this.scratchPrefix(uploadId)}marker`;
  }

  /** A fresh segment name for bytes appended at `offset` (unique, so a retried append never overwrites). */
  static newSegmentName(offset: number): string {
    return `${offset}-${randomBytes(6).toString('hex')}`;
  }

  static isSegmentName(name: string): boolean {
    return SEGMENT.test(name);
  }

  segmentKey(uploadId: string, name: string): string {
    if (!S3Layout.isSegmentName(name)) throw new TypeError(`s3 storage: invalid segment name "${name.slice(0, 40)}"`);
    return `${this.scratchPrefix(uploadId)}${name}`;
  }

  /** Where a health check may write and remove a probe object. */
  probeKey(): string {
    return `${this.prefix}probes/${randomBytes(8).toString('hex')}`;
  }
}

function checkId(id: string): string {
  // Upload ids the sdk's grammar does not accept never reach a key.
  if (typeof id !== 'string' || !isUploadId(id)) throw new TypeError(`s3 storage: invalid upload id "${String(id).slice(0, 140)}"`);
  return id;
}

/** Normalises a configured prefix: no leading slash, one trailing slash, empty for none. */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}
