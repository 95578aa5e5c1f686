import {
  eventContextOf,
  RegistryError,
  type ArtifactService,
  type BlobCommitContext,
  type BlobService,
  type DatabaseService,
  type EventService,
  type ManifestPutContext,
} from '@wharf/sdk';
import type { Logger } from 'pino';
import { quotaEvents, type QuotaEventData } from './events.js';
import { formatSize, projectOf } from './sizes.js';
import type { ChargeOutcome, QuotaRow, QuotaStore, Refusal, RepositoryCheck } from './store.js';
import { deriveUsage, projectsWithRepositories } from './usage.js';

export interface QuotaServiceDeps {
  readonly store: QuotaStore;
  readonly database: DatabaseService;
  readonly events: EventService;
  readonly artifacts: ArtifactService;
  readonly blobs: BlobService;
  readonly logger: Logger;
  readonly settleMs: number;
  readonly warningPercent: number;
}

/** What a push is charged for, in the words of the refusal. */
interface Push {
  readonly project: string;
  readonly repository: string;
  readonly digest: string;
  readonly what: 'blob' | 'manifest';
  readonly principal: BlobCommitContext['principal'];
  readonly request: BlobCommitContext['request'];
}

/** The message a refused client reads: the quota, its usage and what the push would add. */
export function refusalMessage(project: string, refusal: Refusal, what: 'blob' | 'manifest', repository = ''): string {
  if (refusal.resource === 'repositoryStorage') {
    const adding = what === 'blob' ? `this blob ${formatSize(refusal.adding)}` : `this manifest ${formatSize(refusal.adding)}`;
    return `repository ${repository} storage quota ${formatSize(refusal.limit)} exceeded: in use ${formatSize(refusal.used)}, ${adding}`;
  }
  if (refusal.resource === 'count') {
    return `project ${project} artifact count quota ${refusal.limit} exceeded: in use ${refusal.used}, this push ${refusal.adding} more`;
  }
  const adding = what === 'blob' ? `this blob ${formatSize(refusal.adding)}` : `this manifest adds ${formatSize(refusal.adding)}`;
  return `project ${project} storage quota ${formatSize(refusal.limit)} exceeded: in use ${formatSize(refusal.used)}, ${adding}`;
}

/**
 * The quotas' behaviour: the two gates (blob commit, manifest put) charging the project in the
 * store's locked transaction, the release of a charge whose commit failed, the warning and
 * exceeded events, and the recompute of a project's usage from its content.
 */
export class QuotaService {
  /** Charges a gate made, by the kernel's context object: released if the commit then fails. */
  readonly #reserved = new WeakMap<BlobCommitContext, { project: string; digest: string; charged: boolean; repository: string | undefined }>();
  readonly #rechecks = new Set<string>();
  #closed = false;
  #draining: Promise<void> | undefined;
  #backfill: Promise<void> | undefined;
  #again = false;

  constructor(private readonly deps: QuotaServiceDeps) {}

  /** `registry.beforeBlobCommit`: a blob new to the project must fit its storage quota. */
  async beforeBlobCommit(context: BlobCommitContext): Promise<void> {
    const project = projectOf(context.repository);
    if (!project) return;
    const push: Push = { project, repository: context.repository, digest: context.digest, what: 'blob', principal: context.principal, request: context.request };
    const check = await this.#repositoryCheck(push, context.size, async () => (await this.deps.blobs.inRepository(context.repository, context.digest)) !== undefined);
    const outcome = await this.#charge(push, () => this.deps.store.chargeBlob(project, context.digest, context.size, check));
    if (outcome.charged > 0 || check) this.#reserved.set(context, { project, digest: context.digest, charged: outcome.charged > 0, repository: check?.repository });
  }

  /** `registry.blobCommitFailed`: gives back the charge, unless the project holds the blob anyway. */
  async blobCommitFailed(context: BlobCommitContext): Promise<void> {
    const reserved = this.#reserved.get(context);
    if (!reserved) return;
    this.#reserved.delete(context);
    if (reserved.repository !== undefined) await this.deps.store.dropPending(reserved.project, reserved.repository, [reserved.digest]);
    if (!reserved.charged) return;
    // A concurrent push of the same digest into the project may have committed it meanwhile.
    const stat = await this.deps.blobs.stat(context.digest as `sha256:${string}`);
    if (stat?.repositories.some((r) => projectOf(r) === reserved.project)) return;
    await this.deps.store.release(reserved.project, reserved.digest);
  }

  /** `registry.beforeManifestPut`: a new artifact must fit the count quota, and what it adds the storage quota. */
  async beforeManifestPut(context: ManifestPutContext): Promise<void> {
    const project = projectOf(context.repository);
    if (!project) return;
    const { store, blobs, artifacts } = this.deps;
    const digests = [context.digest, ...context.references];
    const missing = new Set(await store.uncharged(project, digests));
    const sizes = new Map<string, number>();
    for (const digest of digests) {
      if (!missing.has(digest)) sizes.set(digest, 0);
      else if (digest === context.digest) sizes.set(digest, context.size);
      else {
        const blob = await blobs.inRepository(context.repository, digest as `sha256:${string}`);
        const size = blob?.size ?? (await artifacts.getArtifact(context.repository, digest))?.manifestSize;
        // Content the repository does not hold yet (a pull-through cache stores the manifest
        // first, its blobs as they are pulled) is charged when it arrives, at its own gate.
        if (size !== undefined) sizes.set(digest, size);
      }
    }
    const push: Push = { project, repository: context.repository, digest: context.digest, what: 'manifest', principal: context.principal, request: context.request };
    const check = await this.#repositoryCheck(push, context.size, async () => (await artifacts.getArtifact(context.repository, context.digest)) !== undefined);
    const { newArtifact } = await this.#charge(push, () => store.chargeManifest(project, context.repository, context.digest, sizes, check));
    if (newArtifact) this.#confirmLater(project, context.repository, context.digest);
  }

  /**
   * A manifest refused after the gates (`MANIFEST_BLOB_UNKNOWN`, a database failure) has no
   * failure hook: look for it once its push must be over, and recompute the project if it never
   * arrived. Process-local; the periodic recompute covers a node that stops meanwhile.
   */
  #confirmLater(project: string, repository: string, digest: string): void {
    const timer = setTimeout(() => {
      if (this.#closed) return;
      this.deps.artifacts
        .getArtifact(repository, digest)
        .then(async (artifact) => {
          if (artifact || this.#closed) return;
          await this.deps.store.markDirty(project);
          this.wake();
        })
        .catch((err: unknown) => this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err), project }, 'quota check of a pushed manifest failed'));
    }, this.deps.settleMs + 1000);
    timer.unref();
  }

  /**
   * Recomputes a project's usage from its repositories. Charges younger than the settle window
   * that the content does not show yet are kept, and looked at again once they are older.
   */
  async reconcile(project: string): Promise<QuotaRow> {
    const started = Date.now();
    const derived = await deriveUsage(this.deps.artifacts, this.deps.blobs, project);
    const { row, kept } = await this.deps.store.reconcile(project, derived, started - this.deps.settleMs);
    if (kept > 0) this.#recheckLater(project);
    return row;
  }

  /** Recomputes every project: those with a quota row and those holding repositories. */
  async reconcileAll(): Promise<number> {
    const projects = new Set([...(await this.deps.store.projects()), ...(await projectsWithRepositories(this.deps.artifacts))]);
    for (const project of projects) {
      if (this.#closed) break;
      await this.reconcile(project);
    }
    return projects.size;
  }

  /** Starts the first boot's backfill in the background (a large registry's count must not hold the boot). */
  startBackfill(): void {
    this.#backfill = this.backfillOnce().catch((err: unknown) =>
      this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'quota backfill failed (retried at the next boot; the periodic recompute counts the content meanwhile)'),
    );
  }

  /** Counts what existed before the plugin's first boot, once per database. */
  async backfillOnce(): Promise<void> {
    if ((await this.deps.store.getMeta('backfilled')) !== undefined) return;
    const projects = await this.reconcileAll();
    if (this.#closed) return;
    await this.deps.store.setMeta('backfilled', new Date().toISOString());
    this.deps.logger.info({ projects }, 'quota usage backfilled from existing content');
  }

  /**
   * Recomputes the projects marked dirty (by this node or another), until none is left. A mark
   * is cleared only if no delete marked the project again while it was being recomputed.
   */
  wake(): void {
    if (this.#closed) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain()
      .catch((err: unknown) => this.deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'quota recompute failed (retried at the next poll)'))
      .finally(() => {
        this.#draining = undefined;
      });
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      for (;;) {
        const batch = await this.deps.store.dirty(50);
        for (const { project, version } of batch) {
          if (this.#closed) return;
          await this.reconcile(project);
          await this.deps.store.clearDirty(project, version);
        }
        if (batch.length < 50) break;
      }
    } while (this.#again && !this.#closed);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([this.#draining, this.#backfill]);
  }

  /** Charges in one transaction with the warning event; a refusal records the exceeded event and throws DENIED. */
  async #charge(push: Push, charge: () => Promise<ChargeOutcome>): Promise<{ charged: number; newArtifact: boolean }> {
    const { database, events } = this.deps;
    const outcome = await database.transaction(async () => {
      const result = await charge();
      if (result.ok && result.warning) {
        const message = `project ${push.project} ${result.warning.resource === 'storage' ? 'storage' : 'artifact count'} usage reached ${this.deps.warningPercent}% of its quota`;
        await events.publish(this.#draft(quotaEvents.warning, push, result.warning, message));
      }
      return result;
    });
    if (outcome.ok) return { charged: outcome.charged, newArtifact: outcome.newArtifact };
    return this.#refuse(push, outcome.refusal);
  }

  /** Records `quota.exceeded` and refuses the push with DENIED. */
  async #refuse(push: Push, refusal: Refusal): Promise<never> {
    const message = refusalMessage(push.project, refusal, push.what, push.repository);
    await this.deps.events.publish(this.#draft(quotaEvents.exceeded, push, refusal, message)).catch((err: unknown) => {
      this.deps.logger.warn({ err, project: push.project }, 'quota exceeded event not recorded');
    });
    throw new RegistryError('DENIED', message, {
      detail: { project: push.project, repository: push.repository, quota: refusal.resource, limit: refusal.limit, used: refusal.used, adding: refusal.adding },
    });
  }

  /**
   * What the per-repository quota check under the project's lock needs (undefined: no limit,
   * or the repository holds the digest already). Read here, before the lock, in this order:
   * the admissions pending for the repository, whether the repository holds each (marked once
   * seen, so later checks skip the question), then the repository's size (the kernel's: its
   * manifests and linked blobs). An admission the lock then finds that was not pending here,
   * or was not held yet, is added to that size: concurrent pushes into one repository cannot
   * pass its quota together (ADR 0030).
   */
  async #repositoryCheck(push: Push, adding: number, alreadyThere: () => Promise<boolean>): Promise<RepositoryCheck | undefined> {
    const { store, artifacts, blobs } = this.deps;
    const limit = (await store.peek(push.project)).repositoryStorageLimit;
    if (limit < 0 || (await alreadyThere())) return undefined;
    // At least a minute: a push admitted but not committed yet must stay counted meanwhile.
    const cutoff = Date.now() - Math.max(this.deps.settleMs, 60_000);
    const seen = new Map<string, boolean>();
    const nowHeld: string[] = [];
    for (const pending of await store.pendingOf(push.project, push.repository, cutoff)) {
      const held = pending.held || (pending.kind === 'manifest'
        ? (await artifacts.getArtifact(push.repository, pending.digest)) !== undefined
        : (await blobs.inRepository(push.repository, pending.digest as `sha256:${string}`)) !== undefined);
      if (held && !pending.held) nowHeld.push(pending.digest);
      seen.set(pending.digest, held);
    }
    if (nowHeld.length > 0) await store.markHeld(push.project, push.repository, nowHeld);
    await store.dropExpiredPending(push.project, push.repository, cutoff);
    const size = (await artifacts.getRepository(push.repository))?.size ?? 0;
    return { repository: push.repository, digest: push.digest, kind: push.what, adding, limit, size, seen, cutoff };
  }

  #draft(type: typeof quotaEvents.warning, push: Push, about: Refusal, message: string) {
    const data: QuotaEventData = { project: push.project, repository: push.repository, digest: push.digest, resource: about.resource, used: about.used, limit: about.limit, adding: about.adding, message };
    return { type, partition: `project:${push.project}`, data, ...eventContextOf(push.principal, push.request) };
  }

  #recheckLater(project: string): void {
    if (this.#rechecks.has(project) || this.#closed) return;
    this.#rechecks.add(project);
    const timer = setTimeout(() => {
      this.#rechecks.delete(project);
      if (this.#closed) return;
      this.reconcile(project).catch((err: unknown) => this.deps.logger.warn({ err, project }, 'quota recompute failed'));
    }, this.deps.settleMs + 1000);
    timer.unref();
  }
}
