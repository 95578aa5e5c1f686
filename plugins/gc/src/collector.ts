import type { ArtifactService, BlobInfo, BlobService, ContentActor, ContentService, Logger, Principal, UploadSessionService } from '@wharf/sdk';
import type { GcStore, RunCounts, RunRecord } from './store.js';

/**
 * One collection. The plugin decides what and when; the kernel's `coreServices.blobs`
 * `deleteUnreferenced` decides, under its locks, whether each candidate may really go (ADR 0029).
 *
 * 1. take the lock across nodes (renewed while alive), finish deletions a killed run claimed;
 * 2. purge uploads idle past `uploads.maxAgeHours`;
 * 3. optionally delete untagged artifacts through `coreServices.content` (gates, events);
 * 4. mark: walk the unreferenced blobs older than the window, in digest order;
 * 5. sweep: hand them to the kernel in batches, `workers` batches at once.
 * A dry run only counts (and reads the held-back figure the same way).
 */

export interface CollectorDeps {
  readonly store: GcStore;
  readonly blobs: BlobService;
  readonly uploads: UploadSessionService;
  readonly artifacts: ArtifactService;
  readonly content: ContentService;
  readonly logger: Logger;
  /** This node, for the lock. */
  readonly node: string;
  readonly lockMs: number;
  readonly uploadMaxAgeMs: number;
  readonly now?: () => number;
}

const GC_PRINCIPAL: Principal = Object.freeze({ subject: 'garbage-collector', kind: 'system', provider: 'gc', admin: true, groups: Object.freeze([]) as readonly string[] });
const actor: ContentActor = { principal: GC_PRINCIPAL };
/** Blobs handed to the kernel per call: one claim transaction, one storage request (S3 takes 1000 keys). */
const SWEEP_BATCH = 500;
const PAGE = 1000;

/** Thrown when the run was asked to stop (API, CLI, or the node shutting down). */
class Stopped extends Error {}

export class Collector {
  readonly #deps: CollectorDeps;
  readonly #now: () => number;

  constructor(deps: CollectorDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Runs collection `id` to its end and records the outcome. Resolves `false` (changing
   * nothing) when another collection holds the lock, so the caller can try again later.
   */
  async run(id: number, signal?: AbortSignal, onProgress?: (r: RunCounts & { phase: string }) => void): Promise<boolean> {
    const { store, logger, node, lockMs } = this.#deps;
    const holder = `${node}:${id}`.slice(0, 128);
    if (!(await store.lock(holder, id, lockMs))) return false;
    const record = await store.get(id);
    if (!record || !(await store.start(id))) {
      await store.unlock(holder);
      return true;
    }
    await store.failAbandoned(id);
    let lost = false;
    const renew = setInterval(() => {
      store.lock(holder, id, lockMs).then(
        (held) => {
          if (!held) lost = true;
        },
        () => undefined,
      );
    }, Math.max(1000, Math.floor(lockMs / 3)));
    renew.unref();
    const counts: { -readonly [K in keyof RunCounts]: RunCounts[K] } = { candidates: 0, heldBack: 0, blobsDeleted: 0, blobsKept: 0, bytesFreed: 0, artifactsDeleted: 0, uploadsPurged: 0 };
    let phase = 'start';
    let lastReport = 0;
    const report = async (force = false) => {
      onProgress?.({ ...counts, phase });
      if (!force && this.#now() - lastReport < 500) return;
      lastReport = this.#now();
      await store.progress(id, phase, counts);
    };
    const checkpoint = async () => {
      if (lost) throw new Error('lost the collection lock (the database was unreachable longer than lockSeconds)');
      if (signal?.aborted || (await store.stopRequested(id))) throw new Stopped();
      await report();
    };
    const log = (message: string) => store.log(id, message);
    try {
      await log(`${record.options.dryRun ? 'dry run' : 'collection'} started on ${node}: grace window ${record.options.graceWindowMinutes} min, workers ${record.options.workers}, untagged ${record.options.deleteUntagged ? `deleted (older than ${record.options.untaggedOlderThanDays} d)` : 'kept'}`);
      if (!record.options.dryRun) await this.#finishInterrupted(log, counts, checkpoint);
      phase = 'uploads';
      await this.#purgeUploads(record, counts, checkpoint);
      await log(`uploads idle past the limit: ${counts.uploadsPurged} ${record.options.dryRun ? 'would be cancelled' : 'cancelled'}`);
      if (record.options.deleteUntagged) {
        phase = 'untagged';
        await this.#deleteUntagged(record, counts, checkpoint);
        await log(`untagged artifacts: ${counts.artifactsDeleted} ${record.options.dryRun ? 'would be deleted' : 'deleted'}`);
      }
      phase = 'sweep';
      await this.#sweep(record, counts, checkpoint);
      await log(
        `${record.options.dryRun ? 'would delete' : 'deleted'} ${counts.blobsDeleted} blobs (${counts.bytesFreed} bytes) of ${counts.candidates} candidates; ${counts.blobsKept} were in use again; the grace window held back ${counts.heldBack}`,
      );
      await store.finish(id, 'succeeded', counts);
      logger.info({ run: id, ...counts, dryRun: record.options.dryRun }, record.options.dryRun ? 'garbage collection dry run finished' : 'garbage collection finished');
    } catch (err) {
      const stopped = err instanceof Stopped;
      const message = stopped ? 'stopped on request' : err instanceof Error ? err.message : String(err);
      await log(stopped ? 'stopped on request; what was claimed is finished by the next run' : `failed: ${message}`).catch(() => undefined);
      await store.finish(id, stopped ? 'stopped' : 'failed', counts, stopped ? undefined : message).catch(() => undefined);
      if (!stopped) logger.error({ run: id, err: message }, 'garbage collection failed');
    } finally {
      clearInterval(renew);
      onProgress?.({ ...counts, phase: 'done' });
      await store.unlock(holder).catch(() => undefined);
    }
    return true;
  }

  async #finishInterrupted(log: (m: string) => Promise<void>, counts: { blobsDeleted: number; bytesFreed: number }, checkpoint: () => Promise<void>): Promise<void> {
    let finished = 0;
    for (;;) {
      const { deleted } = await this.#deps.blobs.finishInterruptedDeletes(SWEEP_BATCH);
      if (deleted.length === 0) break;
      finished += deleted.length;
      counts.blobsDeleted += deleted.length;
      counts.bytesFreed += deleted.reduce((s, b) => s + b.size, 0);
      await checkpoint();
    }
    if (finished > 0) await log(`finished ${finished} deletions an interrupted run had claimed`);
  }

  async #purgeUploads(record: RunRecord, counts: { uploadsPurged: number }, checkpoint: () => Promise<void>): Promise<void> {
    counts.uploadsPurged += await purgeUploads(this.#deps.uploads, new Date(this.#now() - this.#deps.uploadMaxAgeMs), record.options.dryRun, checkpoint);
  }

  async #deleteUntagged(record: RunRecord, counts: { artifactsDeleted: number }, checkpoint: () => Promise<void>): Promise<void> {
    const { artifacts, content, logger } = this.#deps;
    const before = this.#now() - record.options.untaggedOlderThanDays * 86_400_000;
    let cursor: string | undefined;
    do {
      const repos = await artifacts.listRepositories({ limit: 100, cursor });
      for (const repo of repos.items) {
        let artifactCursor: string | undefined;
        const doomed = [];
        do {
          const page = await artifacts.listArtifacts(repo.name, { limit: PAGE, cursor: artifactCursor });
          const present = new Set(page.items.map((a) => a.digest));
          for (const a of page.items) {
            if (a.tags.length > 0 || a.pushedAt.getTime() >= before) continue;
            // A referrer (signature, SBOM) goes with its subject, not on its own.
            if (a.subject !== undefined && (present.has(a.subject) || (await artifacts.getArtifact(repo.name, a.subject)))) continue;
            doomed.push(a.digest);
          }
          artifactCursor = page.next;
        } while (artifactCursor !== undefined);
        for (const digest of doomed) {
          // An index's child is untagged but in use: keep anything another manifest lists.
          const users = await artifacts.listReferencing(digest, { limit: 10 });
          if (users.items.some((u) => u.relation === 'child')) continue;
          if (record.options.dryRun) counts.artifactsDeleted++;
          else {
            try {
              await content.deleteManifest(repo.name, digest, actor);
              counts.artifactsDeleted++;
            } catch (err) {
              // A gate (immutability, retention hold) refused it, or it went meanwhile: skip.
              logger.debug({ repository: repo.name, digest, err: err instanceof Error ? err.message : String(err) }, 'untagged artifact kept');
            }
          }
          await checkpoint();
        }
      }
      cursor = repos.next;
    } while (cursor !== undefined);
  }

  async #sweep(record: RunRecord, counts: { -readonly [K in keyof RunCounts]: RunCounts[K] }, checkpoint: () => Promise<void>): Promise<void> {
    const { blobs } = this.#deps;
    const olderThan = new Date(this.#now() - record.options.graceWindowMinutes * 60_000);
    const run = `gc-${record.id}`;
    let cursor: string | undefined;
    do {
      const page = await blobs.listUnreferenced(olderThan, { limit: PAGE, cursor });
      cursor = page.next;
      counts.candidates += page.items.length;
      if (record.options.dryRun) {
        counts.blobsDeleted += page.items.length;
        counts.bytesFreed += page.items.reduce((s, b) => s + b.size, 0);
      } else {
        await inParallel(batches(page.items, SWEEP_BATCH, record.options.workers), record.options.workers, async (batch) => {
          const done = await blobs.deleteUnreferenced(batch.map((b) => b.digest), { olderThan, run });
          counts.blobsDeleted += done.deleted.length;
          counts.blobsKept += done.kept;
          counts.bytesFreed += done.deleted.reduce((s, b) => s + b.size, 0);
        });
      }
      await checkpoint();
    } while (cursor !== undefined);
    // What the window spared: the unreferenced blobs left (a dry run left the candidates too).
    let leftCursor: string | undefined;
    let left = 0;
    do {
      const page = await blobs.listUnreferenced(new Date(this.#now() + 1), { limit: PAGE, cursor: leftCursor });
      left += page.items.length;
      leftCursor = page.next;
    } while (leftCursor !== undefined);
    counts.heldBack = Math.max(0, record.options.dryRun ? left - counts.candidates : left);
  }
}

/** Cancels uploads idle since `before` (or counts them on a dry run); resolves how many. */
export async function purgeUploads(uploads: UploadSessionService, before: Date, dryRun: boolean, checkpoint?: () => Promise<void>): Promise<number> {
  let purged = 0;
  const seen = new Set<string>();
  for (;;) {
    const stale = (await uploads.listStale(before, 1000)).filter((u) => !seen.has(u.id));
    if (stale.length === 0) return purged;
    for (const u of stale) seen.add(u.id);
    if (dryRun) purged += stale.length;
    else {
      const cancelled = await Promise.all(stale.map((u) => uploads.cancel(u.id).catch(() => false)));
      purged += cancelled.filter(Boolean).length;
    }
    await checkpoint?.();
    if (dryRun) return purged;
  }
}

/** Splits a page into batches of at most `size`, and into at least `workers` when it is small. */
function batches(items: readonly BlobInfo[], size: number, workers: number): BlobInfo[][] {
  const per = Math.max(1, Math.min(size, Math.ceil(items.length / workers)));
  const out: BlobInfo[][] = [];
  for (let i = 0; i < items.length; i += per) out.push(items.slice(i, i + per));
  return out;
}

async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}
