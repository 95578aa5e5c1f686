import type { UploadState } from '@wharf/sdk';
import { MAX_PART_SIZE, MIN_PART_SIZE } from './config.js';
import { S3Layout } from './layout.js';

/** S3 accepts part numbers 1 to 10,000. */
export const MAX_PARTS = 10_000;

/**
 * Bytes of an upload that are not in a multipart part yet: `size` bytes of object `name` from
 * `start`. `name` is `data` (the upload's data object, holding its first segment or, after a
 * seal, all of it) or a segment name under the upload's scratch prefix.
 */
export interface PendingPiece {
  readonly name: string;
  readonly start: number;
  readonly size: number;
}

/**
 * The S3 driver's upload state, which the kernel keeps in its database between requests. It is
 * everything needed to continue, read back, commit or abort the upload from any process; S3's
 * ListParts is never needed (and s3rver does not have it).
 *
 * Bytes `[0, etags.length * partSize)` are parts 1..n of multipart upload `multipart` (to the
 * upload's data key), every part exactly `partSize` bytes; bytes after that, up to `size`, are
 * the `pending` pieces, in order.
 */
export interface S3UploadState extends UploadState {
  readonly size: number;
  readonly partSize: number;
  readonly multipart?: string;
  readonly etags: readonly string[];
  readonly pending: readonly PendingPiece[];
}

/** A new, empty upload. */
export function emptyState(partSize: number): S3UploadState {
  return { size: 0, partSize, etags: [], pending: [] };
}

export function pendingBytes(state: Pick<S3UploadState, 'pending'>): number {
  return state.pending.reduce((sum, piece) => sum + piece.size, 0);
}

/**
 * Checks a state read back from the database before any key is built from it: the kernel stores
 * it as JSON, so it is treated as untrusted input. Throws a TypeError naming what is wrong.
 */
export function parseState(state: UploadState): S3UploadState {
  const fail = (what: string): never => {
    throw new TypeError(`s3 storage: invalid upload state: ${what}`);
  };
  if (typeof state !== 'object' || state === null) fail('not an object');
  const { size, partSize, multipart, etags, pending } = state as Record<string, unknown>;
  if (!isCount(size)) fail(`size ${String(size)}`);
  if (!isCount(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) fail(`partSize ${String(partSize)}`);
  if (multipart !== undefined && (typeof multipart !== 'string' || multipart.length === 0 || multipart.length > 1024)) fail('multipart id');
  if (!Array.isArray(etags) || etags.length > MAX_PARTS || !etags.every((e) => typeof e === 'string' && e.length > 0 && e.length < 256)) fail('etags');
  if (!Array.isArray(pending) || pending.length > MAX_PARTS) fail('pending');
  const pieces = (pending as unknown[]).map((piece): PendingPiece => {
    const { name, start, size: pieceSize } = (piece ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || (name !== 'data' && !S3Layout.isSegmentName(name))) fail('pending piece name');
    if (!isCount(start) || !isCount(pieceSize) || pieceSize === 0) fail('pending piece range');
    return { name: name as string, start: start as number, size: pieceSize as number };
  });
  const parts = (etags as string[]).length;
  if ((parts > 0) !== (multipart !== undefined)) fail('parts without a multipart upload, or the reverse');
  const s = size as number;
  if (parts * (partSize as number) + pendingBytes({ pending: pieces }) !== s) fail(`parts and pending pieces do not add up to ${s} bytes`);
  return {
    size: s,
    partSize: partSize as number,
    ...(multipart === undefined ? {} : { multipart: multipart as string }),
    etags: [...(etags as string[])],
    pending: pieces,
  };
}

/** A state with nothing recognisable in it: what `abort` may receive for an unknown upload. */
export function isBareState(state: UploadState): boolean {
  return typeof state === 'object' && state !== null && (state as Record<string, unknown>)['partSize'] === undefined;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
