import { isDigest, type Digest } from '@wharf/sdk';
import type { Bucket } from './bucket.js';
import type { S3Layout } from './layout.js';

/**
 * The marker object `uploads/<id>/marker`: it exists exactly while the upload does, which is how
 * every process tells a live upload from an aborted or committed one. Its JSON body records
 * the two things the kernel's state cannot, because they happen in calls that return no state:
 *
 * - `sealed`: `readUpload` completed multipart upload `multipart` into the data object, `size`
 *   bytes, to read it back (parts cannot be read before that);
 * - `committing`: a commit under this digest started, so the data object may already be a
 *   blob's bytes and `abort` must check the claim before deleting it;
 * - `multiparts`: every multipart upload started for it, including those of appends whose
 *   result the kernel never recorded, so commit and abort can discard them all without
 *   ListMultipartUploads (which s3rver lacks).
 */
export interface UploadMarker {
  readonly sealed?: { readonly multipart: string; readonly size: number };
  readonly committing?: Digest;
  readonly multiparts?: readonly string[];
}

const MAX_MARKER_BYTES = 256 * 1024;

export async function readMarker(bucket: Bucket, layout: S3Layout, uploadId: string): Promise<UploadMarker | undefined> {
  const key = layout.markerKey(uploadId);
  const bytes = await bucket.getSmall(key, MAX_MARKER_BYTES);
  if (bytes === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Error(`s3 storage: upload marker ${key} is not JSON`);
  }
  const { sealed, committing, multiparts } = (parsed ?? {}) as Record<string, unknown>;
  const marker: { sealed?: UploadMarker['sealed']; committing?: Digest; multiparts?: string[] } = {};
  if (sealed !== undefined) {
    const { multipart, size } = sealed as Record<string, unknown>;
    if (typeof multipart !== 'string' || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new Error(`s3 storage: upload marker ${key} has an invalid seal`);
    }
    marker.sealed = { multipart, size };
  }
  if (committing !== undefined) {
    if (typeof committing !== 'string' || !isDigest(committing)) throw new Error(`s3 storage: upload marker ${key} has an invalid digest`);
    marker.committing = committing;
  }
  if (multiparts !== undefined) {
    if (!Array.isArray(multiparts) || !multiparts.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 1024)) {
      throw new Error(`s3 storage: upload marker ${key} has an invalid multipart list`);
    }
    marker.multiparts = multiparts as string[];
  }
  return marker;
}

export async function writeMarker(bucket: Bucket, layout: S3Layout, uploadId: string, marker: UploadMarker): Promise<void> {
  await bucket.put(layout.markerKey(uploadId), Buffer.from(JSON.stringify({ v: 1, ...marker })), 'meta');
}
