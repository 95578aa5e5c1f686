import { pipeline } from 'node:stream/promises';
import type { Readable, Transform } from 'node:stream';
import { ReplicationTargetError, type Digest, type RemoteManifest, type ReplicationTarget } from '@wharf/sdk';
import { manifestRefs } from './manifest-refs.js';

/**
 * Copies one artifact between two targets, faithfully and cheaply: the manifest bytes are
 * copied as they are (digests preserved), index children and referrers follow, blobs the
 * destination has are skipped (or mounted from another of its repositories), and blob bytes
 * stream from source to destination without being held in memory.
 */

export interface CopyOptions {
  /** Replace a destination tag that points at other content. */
  readonly override: boolean;
  readonly chunkSize: number | undefined;
  /** A throttle for each blob stream, or `undefined` for full speed. */
  readonly throttle: (() => Transform) | undefined;
  readonly signal: AbortSignal;
  readonly log: (message: string) => Promise<void>;
  /** Where the destination is known to hold a blob (for cross-repository mounts). */
  readonly mounts: MountHints;
}

export interface CopyResult {
  readonly outcome: 'copied' | 'up-to-date' | 'kept';
  readonly digest: Digest;
  readonly bytes: number;
}

/** Remembers which destination repository holds a blob, so the next copy can mount it. */
export class MountHints {
  readonly #where = new Map<string, string>();
  constructor(private readonly max = 10_000) {}
  get(digest: Digest): string | undefined {
    return this.#where.get(digest);
  }
  set(digest: Digest, repository: string): void {
    this.#where.delete(digest);
    this.#where.set(digest, repository);
    if (this.#where.size > this.max) this.#where.delete(this.#where.keys().next().value as string);
  }
}

interface Side {
  readonly target: ReplicationTarget;
  readonly repository: string;
}

const MAX_REFERRER_DEPTH = 4;
/** Blobs of one manifest copied at once (skopeo's default is 6 layers in parallel). */
const BLOB_CONCURRENCY = 4;

export async function copyArtifact(
  source: Side & { reference: string },
  destination: Side & { reference: string },
  options: CopyOptions,
): Promise<CopyResult> {
  const manifest = await source.target.getManifest(source.repository, source.reference);
  if (!manifest) {
    throw new ReplicationTargetError('NOT_FOUND', `${source.repository}:${source.reference} no longer exists on the source`, { retryable: false });
  }
  const counter = { bytes: 0 };
  const existing = await destination.target.headManifest(destination.repository, destination.reference);
  let outcome: CopyResult['outcome'];
  if (existing?.digest === manifest.digest) {
    // Nothing to write; this is also what stops two registries replicating to each other forever.
    await options.log(`${destination.repository}:${destination.reference} is already ${manifest.digest}`);
    outcome = 'up-to-date';
  } else if (existing && !options.override) {
    await options.log(`${destination.repository}:${destination.reference} points at ${existing.digest} and override is off: kept`);
    return { outcome: 'kept', digest: manifest.digest, bytes: 0 };
  } else {
    await copyContent(source, destination, manifest, options, counter);
    await destination.target.putManifest(destination.repository, destination.reference, manifest);
    await options.log(`put ${destination.repository}:${destination.reference} (${manifest.digest}, ${manifest.mediaType})`);
    outcome = 'copied';
  }
  await copyReferrers(source, destination, manifest.digest, options, counter, 0);
  return { outcome, digest: manifest.digest, bytes: counter.bytes };
}

/** Copies what a manifest references: index children (each under its digest) or blobs. */
async function copyContent(source: Side, destination: Side, manifest: RemoteManifest, options: CopyOptions, counter: { bytes: number }): Promise<void> {
  const parsed = manifestRefs(manifest);
  for (const child of parsed.manifests) {
    options.signal.throwIfAborted();
    await copyManifestByDigest(source, destination, child, options, counter);
  }
  // Layers go several at a time, as skopeo sends them; a bandwidth limit is per task, so a
  // throttled task sends one blob at a time and the limit holds for the whole task.
  const parallel = options.throttle ? 1 : BLOB_CONCURRENCY;
  await forEachLimit(parsed.blobs, parallel, async (digest) => {
    options.signal.throwIfAborted();
    await copyBlob(source, destination, digest, options, counter);
  });
}

/** Runs `fn` over `items` with at most `limit` at once; the first failure rejects (after the running ones end). */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

async function copyManifestByDigest(source: Side, destination: Side, digest: Digest, options: CopyOptions, counter: { bytes: number }): Promise<void> {
  if (await destination.target.headManifest(destination.repository, digest)) return;
  const manifest = await source.target.getManifest(source.repository, digest);
  if (!manifest) throw new ReplicationTargetError('NOT_FOUND', `${source.repository}@${digest} is referenced but missing on the source`, { retryable: false });
  await copyContent(source, destination, manifest, options, counter);
  await destination.target.putManifest(destination.repository, digest, manifest);
  await options.log(`put ${destination.repository}@${digest} (${manifest.mediaType})`);
}

/** Signatures, SBOMs and other referrers follow their subject (and their own referrers). */
async function copyReferrers(source: Side, destination: Side, subject: Digest, options: CopyOptions, counter: { bytes: number }, depth: number): Promise<void> {
  if (depth >= MAX_REFERRER_DEPTH) return;
  const referrers = (await source.target.listReferrers(source.repository, subject)) ?? [];
  for (const referrer of referrers) {
    options.signal.throwIfAborted();
    await copyManifestByDigest(source, destination, referrer.digest, options, counter);
    await copyReferrers(source, destination, referrer.digest, options, counter, depth + 1);
  }
}

/**
 * The stream the destination reads: the source's own when there is no bandwidth limit (so a
 * storage stream can lend its buffers to the upload), else the source through the throttle.
 * The pipeline carries source errors (and the abort) into the throttle, and so into the upload.
 */
function paced(stream: Readable, options: CopyOptions): Readable {
  const throttle = options.throttle?.();
  if (!throttle) return stream;
  pipeline(stream, throttle, { signal: options.signal }).catch((err: unknown) => {
    throttle.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return throttle;
}

async function copyBlob(source: Side, destination: Side, digest: Digest, options: CopyOptions, counter: { bytes: number }): Promise<void> {
  const { target, repository } = destination;
  if (await target.hasBlob(repository, digest)) {
    options.mounts.set(digest, repository);
    return;
  }
  const from = options.mounts.get(digest);
  if (from && from !== repository && (await target.mountBlob(repository, digest, from).catch(() => false))) {
    await options.log(`mounted blob ${digest} from ${from}`);
    options.mounts.set(digest, repository);
    return;
  }
  const blob = await source.target.readBlob(source.repository, digest, options.signal);
  // Stopping fails the source stream, so every destination (whatever it does with the signal) sees the upload fail.
  const { signal } = options;
  const stop = () => blob.stream.destroy(signal.reason instanceof Error ? signal.reason : new Error('stopped'));
  signal.addEventListener('abort', stop, { once: true });
  try {
    signal.throwIfAborted();
    await target.writeBlob(repository, digest, blob.size, paced(blob.stream, options), { chunkSize: options.chunkSize, signal });
  } finally {
    signal.removeEventListener('abort', stop);
    blob.stream.destroy();
  }
  counter.bytes += blob.size;
  options.mounts.set(digest, repository);
  await options.log(`copied blob ${digest} (${blob.size} bytes)`);
}
