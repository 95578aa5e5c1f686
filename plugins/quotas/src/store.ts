import { createHash } from 'node:crypto';
import type { DatabaseService, Knex } from '@wharf/sdk';
import { TABLES } from './migrations.js';

/**
 * The quotas' SQL. Every change of a project's usage runs in one transaction that first locks
 * the project's row (`SELECT ... FOR UPDATE` on PostgreSQL and MySQL; SQLite's one writer does
 * the same), so concurrent pushes to one project are charged one after the other and their sum
 * never passes the limit. The `*_used` columns always equal the sums of the ledgers.
 */

export interface QuotaRow {
  readonly project: string;
  readonly storageLimit: number;
  readonly countLimit: number;
  /** The limit of each repository of the project, -1 for none. */
  readonly repositoryStorageLimit: number;
  readonly storageUsed: number;
  readonly countUsed: number;
  readonly warned: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface Limits {
  readonly storage: number;
  readonly count: number;
  readonly repositoryStorage: number;
}

/** Why a charge was refused: which quota, its usage, its limit and what the push would add. */
export interface Refusal {
  readonly resource: 'storage' | 'count' | 'repositoryStorage';
  readonly used: number;
  readonly limit: number;
  readonly adding: number;
}

export type ChargeOutcome =
  | { readonly ok: true; readonly row: QuotaRow; readonly charged: number; readonly newArtifact: boolean; readonly warning: Refusal | undefined }
  | { readonly ok: false; readonly row: QuotaRow; readonly refusal: Refusal };

/** What a project's repositories hold, derived from the registry's content. */
export interface DerivedUsage {
  readonly blobs: ReadonlyMap<string, number>;
  readonly artifacts: ReadonlyMap<string, { repository: string; digest: string }>;
}

interface ProjectRecord {
  project: string;
  storage_limit: number | string;
  count_limit: number | string;
  repository_storage_limit: number | string;
  storage_used: number | string;
  count_used: number | string;
  warned: boolean | number;
  created_at: number | string;
  updated_at: number | string;
}

const toRow = (r: ProjectRecord): QuotaRow => ({
  project: r.project,
  storageLimit: Number(r.storage_limit),
  countLimit: Number(r.count_limit),
  repositoryStorageLimit: Number(r.repository_storage_limit),
  storageUsed: Number(r.storage_used),
  countUsed: Number(r.count_used),
  warned: Boolean(r.warned),
  createdAt: new Date(Number(r.created_at)),
  updatedAt: new Date(Number(r.updated_at)),
});

export const artifactKey = (repository: string, digest: string): string => createHash('sha256').update(`${repository}@${digest}`).digest('hex');
const repositoryKey = (repository: string): string => createHash('sha256').update(repository).digest('hex');

/** A blob or manifest admitted into a repository and not yet seen in its size. */
export interface PendingAdmission {
  readonly digest: string;
  readonly kind: 'blob' | 'manifest';
  readonly size: number;
  /** The repository's size was seen to include it. */
  readonly held: boolean;
}

/**
 * The per-repository quota check, decided under the project's lock (see `chargeMany`). `size`
 * is the repository's size as the kernel reported it, read after `seen` was read; `seen` maps
 * each admission pending then to whether the repository held it already (so `size` counts it).
 */
export interface RepositoryCheck {
  readonly repository: string;
  readonly digest: string;
  readonly kind: 'blob' | 'manifest';
  readonly adding: number;
  readonly limit: number;
  readonly size: number;
  readonly seen: ReadonlyMap<string, boolean>;
  /** Admissions charged before this are abandoned pushes: ignored and removed. */
  readonly cutoff: number;
}

const CHUNK = 500;
function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export class QuotaStore {
  constructor(
    private readonly db: DatabaseService,
    private readonly defaults: Limits,
    private readonly warningPercent: number,
  ) {}

  private get knex(): Knex {
    return this.db.knex;
  }

  /** The project's row, created with the configured defaults when it has none. */
  async ensure(project: string): Promise<QuotaRow> {
    const found = await this.get(project);
    if (found) return found;
    const now = Date.now();
    // ON CONFLICT DO NOTHING: a unique violation would abort an enclosing PostgreSQL transaction.
    await this.knex(TABLES.projects)
      .insert({ project, storage_limit: this.defaults.storage, count_limit: this.defaults.count, repository_storage_limit: this.defaults.repositoryStorage, storage_used: 0, count_used: 0, warned: false, created_at: now, updated_at: now })
      .onConflict('project')
      .ignore();
    return (await this.get(project)) as QuotaRow;
  }

  /** The project's row, or what it would be with the defaults (nothing is written). */
  async peek(project: string): Promise<QuotaRow> {
    const found = await this.get(project);
    if (found) return found;
    const now = new Date();
    return { project, storageLimit: this.defaults.storage, countLimit: this.defaults.count, repositoryStorageLimit: this.defaults.repositoryStorage, storageUsed: 0, countUsed: 0, warned: false, createdAt: now, updatedAt: now };
  }

  async get(project: string): Promise<QuotaRow | undefined> {
    const row = await this.knex<ProjectRecord>(TABLES.projects).where({ project }).first();
    return row ? toRow(row) : undefined;
  }

  async list(page: number, pageSize: number): Promise<{ items: QuotaRow[]; total: number }> {
    const [{ n }] = (await this.knex(TABLES.projects).count({ n: '*' })) as [{ n: number | string }];
    const rows = await this.knex<ProjectRecord>(TABLES.projects).orderBy('project').limit(pageSize).offset((page - 1) * pageSize);
    return { items: rows.map(toRow), total: Number(n) };
  }

  async projects(): Promise<string[]> {
    return (await this.knex(TABLES.projects).select('project').orderBy('project')).map((r: { project: string }) => r.project);
  }

  /** Sets the limits given (a limit below the usage is allowed, as in Harbor: pushes then fail). */
  async setLimits(project: string, limits: Partial<Limits>): Promise<QuotaRow> {
    await this.ensure(project);
    return this.db.transaction(async () => {
      const row = await this.lock(project);
      const storageLimit = limits.storage ?? row.storageLimit;
      const countLimit = limits.count ?? row.countLimit;
      const repositoryStorageLimit = limits.repositoryStorage ?? row.repositoryStorageLimit;
      const warned = this.reached(row.storageUsed, storageLimit) || this.reached(row.countUsed, countLimit) ? row.warned : false;
      await this.knex(TABLES.projects).where({ project }).update({ storage_limit: storageLimit, count_limit: countLimit, repository_storage_limit: repositoryStorageLimit, warned, updated_at: Date.now() });
      return (await this.get(project)) as QuotaRow;
    });
  }

  async remove(project: string): Promise<void> {
    await this.db.transaction(async () => {
      for (const table of [TABLES.blobs, TABLES.artifacts, TABLES.dirty, TABLES.pending, TABLES.projects]) await this.knex(table).where({ project }).delete();
    });
  }

  /**
   * Which of `digests` the project is not charged for yet. `locked`: inside the project's
   * locked transaction, read with a lock: on MySQL a plain read would see the snapshot of the
   * transaction's first read, from before the lock, and miss a concurrent push's charge.
   */
  async uncharged(project: string, digests: readonly string[], locked = false): Promise<string[]> {
    const charged = new Set<string>();
    for (const part of chunks([...new Set(digests)])) {
      const query = this.knex(TABLES.blobs).where({ project }).whereIn('digest', part).select('digest');
      const rows = await (locked && this.db.dialect !== 'sqlite' ? query.forShare() : query);
      for (const r of rows as { digest: string }[]) charged.add(r.digest);
    }
    return digests.filter((d) => !charged.has(d));
  }

  /**
   * Charges a blob once per project: nothing when the project already holds the digest, else
   * its size, refused when that passes the storage limit.
   */
  async chargeBlob(project: string, digest: string, size: number, repository?: RepositoryCheck): Promise<ChargeOutcome> {
    return this.chargeMany(project, new Map([[digest, size]]), undefined, repository);
  }

  /**
   * Charges a manifest push: one artifact when `repository@digest` is new to the project, and
   * the manifest and the blobs it references that the project is not charged for yet.
   * `sizes` must hold every digest to charge (the caller looked up the uncharged ones).
   */
  async chargeManifest(project: string, repository: string, digest: string, sizes: ReadonlyMap<string, number>, check?: RepositoryCheck): Promise<ChargeOutcome> {
    return this.chargeMany(project, sizes, { repository, digest }, check);
  }

  /** Admissions pending for `repository` charged at or after `cutoff` (read without a lock). */
  async pendingOf(project: string, repository: string, cutoff: number): Promise<PendingAdmission[]> {
    const rows = (await this.knex(TABLES.pending)
      .where({ project, repository_key: repositoryKey(repository) })
      .andWhere('charged_at', '>=', cutoff)
      .select('digest', 'kind', 'size', 'held')) as { digest: string; kind: string; size: number | string; held: boolean | number }[];
    return rows.map((r) => ({ digest: r.digest, kind: r.kind === 'manifest' ? 'manifest' : 'blob', size: Number(r.size), held: Boolean(r.held) }));
  }

  /**
   * Marks admissions the repository's size was seen to include. Not deleted: a concurrent
   * check that read them as not held yet, and read the size before they were, must still
   * find them under the lock.
   */
  async markHeld(project: string, repository: string, digests: readonly string[]): Promise<void> {
    for (const part of chunks(digests)) {
      await this.knex(TABLES.pending).where({ project }).whereIn('pending_key', part.map((d) => artifactKey(repository, d))).update({ held: true });
    }
  }

  /** Deletes a repository's admissions charged before `cutoff` (pushes that never finished). */
  async dropExpiredPending(project: string, repository: string, cutoff: number): Promise<void> {
    // Found first, deleted by key: a range delete would lock gaps that admissions insert into.
    const expired = (await this.knex(TABLES.pending).where({ project, repository_key: repositoryKey(repository) }).andWhere('charged_at', '<', cutoff).select('pending_key')) as { pending_key: string }[];
    for (const part of chunks(expired.map((r) => r.pending_key))) await this.knex(TABLES.pending).where({ project }).whereIn('pending_key', part).andWhere('charged_at', '<', cutoff).delete();
  }

  /** Forgets admissions whose push failed. */
  async dropPending(project: string, repository: string, digests: readonly string[]): Promise<void> {
    for (const part of chunks(digests)) {
      await this.knex(TABLES.pending).where({ project }).whereIn('pending_key', part.map((d) => artifactKey(repository, d))).delete();
    }
  }

  /**
   * The repository quota under the project's lock: the kernel's size plus what was admitted
   * into the repository and is not in that size (pending then and not held, or admitted since
   * it was read). Admissions are serialised by the lock, so of concurrent pushes each later one
   * sees the earlier ones. Resolves the refusal, or how to record this admission once the
   * project's own checks passed (nothing when a concurrent push admitted the digest already).
   */
  private async checkRepository(project: string, check: RepositoryCheck, now: number): Promise<{ refusal: Refusal } | { record: () => Promise<void> }> {
    const repoKey = repositoryKey(check.repository);
    // A locking read: on MySQL a plain one would read the snapshot of the transaction's first
    // read, taken before the lock. No deletes here: they could deadlock with the pruning.
    const query = this.knex(TABLES.pending).where({ project, repository_key: repoKey }).andWhere('charged_at', '>=', check.cutoff).select('digest', 'size');
    const pending = (await (this.db.dialect === 'sqlite' ? query : query.forShare())) as { digest: string; size: number | string }[];
    if (pending.some((p) => p.digest === check.digest)) return { record: async () => undefined };
    let used = check.size;
    for (const p of pending) if (check.seen.get(p.digest) !== true) used += Number(p.size);
    if (used + check.adding > check.limit) return { refusal: { resource: 'repositoryStorage', used, limit: check.limit, adding: check.adding } };
    const admission = { project, pending_key: artifactKey(check.repository, check.digest), repository_key: repoKey, digest: check.digest, kind: check.kind, size: check.adding, charged_at: now, held: false };
    // An expired admission of the same digest may still be there: replace it.
    return { record: async () => void (await this.knex(TABLES.pending).insert(admission).onConflict(['project', 'pending_key']).merge(['kind', 'size', 'charged_at', 'held'])) };
  }

  private async chargeMany(project: string, sizes: ReadonlyMap<string, number>, artifact: { repository: string; digest: string } | undefined, check?: RepositoryCheck): Promise<ChargeOutcome> {
    await this.ensure(project);
    const now = Date.now();
    return this.db.transaction(async () => {
      const row = await this.lock(project);
      const repository = check ? await this.checkRepository(project, check, now) : undefined;
      if (repository && 'refusal' in repository) return { ok: false, row, refusal: repository.refusal };
      let addCount = 0;
      const key = artifact ? artifactKey(artifact.repository, artifact.digest) : undefined;
      if (artifact && key) {
        const lookup = this.knex(TABLES.artifacts).where({ project, artifact_key: key });
        const known = await (this.db.dialect === 'sqlite' ? lookup : lookup.forShare()).first();
        if (known) await this.knex(TABLES.artifacts).where({ project, artifact_key: key }).update({ seen_at: now });
        else addCount = 1;
      }
      const digests = [...sizes.keys()];
      const missing = new Set(await this.uncharged(project, digests, true));
      const present = digests.filter((d) => !missing.has(d));
      for (const part of chunks(present)) await this.knex(TABLES.blobs).where({ project }).whereIn('digest', part).update({ seen_at: now });
      let addBytes = 0;
      for (const d of missing) addBytes += sizes.get(d) ?? 0;
      if (addCount > 0 && row.countLimit >= 0 && row.countUsed + addCount > row.countLimit) {
        return { ok: false, row, refusal: { resource: 'count', used: row.countUsed, limit: row.countLimit, adding: addCount } };
      }
      if (addBytes > 0 && row.storageLimit >= 0 && row.storageUsed + addBytes > row.storageLimit) {
        return { ok: false, row, refusal: { resource: 'storage', used: row.storageUsed, limit: row.storageLimit, adding: addBytes } };
      }
      // Admitted: recorded only now, so a project refusal leaves no admission behind.
      if (repository && 'record' in repository) await repository.record();
      if (addCount === 0 && addBytes === 0 && missing.size === 0) return { ok: true, row, charged: 0, newArtifact: false, warning: undefined };
      for (const part of chunks([...missing])) {
        await this.knex(TABLES.blobs).insert(part.map((d) => ({ project, digest: d, size: sizes.get(d) ?? 0, seen_at: now })));
      }
      if (artifact && key && addCount > 0) await this.knex(TABLES.artifacts).insert({ project, artifact_key: key, repository: artifact.repository, digest: artifact.digest, seen_at: now });
      const storageUsed = row.storageUsed + addBytes;
      const countUsed = row.countUsed + addCount;
      let warning: Refusal | undefined;
      if (!row.warned) {
        if (addBytes > 0 && this.reached(storageUsed, row.storageLimit)) warning = { resource: 'storage', used: storageUsed, limit: row.storageLimit, adding: addBytes };
        else if (addCount > 0 && this.reached(countUsed, row.countLimit)) warning = { resource: 'count', used: countUsed, limit: row.countLimit, adding: addCount };
      }
      await this.knex(TABLES.projects).where({ project }).update({ storage_used: storageUsed, count_used: countUsed, warned: row.warned || warning !== undefined, updated_at: now });
      return { ok: true, row: { ...row, storageUsed, countUsed, warned: row.warned || warning !== undefined }, charged: addBytes, newArtifact: addCount > 0, warning };
    });
  }

  /** Takes back a blob charge whose commit did not complete. */
  async release(project: string, digest: string): Promise<void> {
    await this.db.transaction(async () => {
      const row = await this.lock(project);
      const charged = await this.knex(TABLES.blobs).where({ project, digest }).first();
      if (!charged) return;
      await this.knex(TABLES.blobs).where({ project, digest }).delete();
      const storageUsed = row.storageUsed - Number(charged.size);
      await this.knex(TABLES.projects).where({ project }).update({ storage_used: storageUsed, warned: this.stillWarned(row, storageUsed, row.countUsed), updated_at: Date.now() });
    });
  }

  /**
   * Makes the ledgers what the project holds: charges what `derived` has and the ledger lacks,
   * and drops what `derived` lacks, unless it was charged or confirmed after `cutoff` (a push
   * whose manifest the derivation could not see yet). Returns how many charges were kept that way.
   */
  async reconcile(project: string, derived: DerivedUsage, cutoff: number): Promise<{ row: QuotaRow; kept: number }> {
    await this.ensure(project);
    const now = Date.now();
    return this.db.transaction(async () => {
      const row = await this.lock(project);
      let kept = 0;
      const blobs = (await this.knex(TABLES.blobs).where({ project }).select('digest', 'size', 'seen_at')) as { digest: string; size: number | string; seen_at: number | string }[];
      const drop: string[] = [];
      const have = new Set<string>();
      for (const b of blobs) {
        have.add(b.digest);
        if (derived.blobs.has(b.digest)) continue;
        if (Number(b.seen_at) >= cutoff) kept++;
        else drop.push(b.digest);
      }
      for (const part of chunks(drop)) await this.knex(TABLES.blobs).where({ project }).whereIn('digest', part).delete();
      const add = [...derived.blobs].filter(([d]) => !have.has(d));
      for (const part of chunks(add)) await this.knex(TABLES.blobs).insert(part.map(([digest, size]) => ({ project, digest, size, seen_at: now })));

      const artifacts = (await this.knex(TABLES.artifacts).where({ project }).select('artifact_key', 'seen_at')) as { artifact_key: string; seen_at: number | string }[];
      const dropKeys: string[] = [];
      const haveKeys = new Set<string>();
      for (const a of artifacts) {
        haveKeys.add(a.artifact_key);
        if (derived.artifacts.has(a.artifact_key)) continue;
        if (Number(a.seen_at) >= cutoff) kept++;
        else dropKeys.push(a.artifact_key);
      }
      for (const part of chunks(dropKeys)) await this.knex(TABLES.artifacts).where({ project }).whereIn('artifact_key', part).delete();
      const addKeys = [...derived.artifacts].filter(([k]) => !haveKeys.has(k));
      for (const part of chunks(addKeys)) {
        await this.knex(TABLES.artifacts).insert(part.map(([k, a]) => ({ project, artifact_key: k, repository: a.repository, digest: a.digest, seen_at: now })));
      }

      const [{ total }] = (await this.knex(TABLES.blobs).where({ project }).sum({ total: 'size' })) as [{ total: number | string | null }];
      const [{ n }] = (await this.knex(TABLES.artifacts).where({ project }).count({ n: '*' })) as [{ n: number | string }];
      const storageUsed = Number(total ?? 0);
      const countUsed = Number(n);
      const warned = this.stillWarned(row, storageUsed, countUsed);
      await this.knex(TABLES.projects).where({ project }).update({ storage_used: storageUsed, count_used: countUsed, warned, updated_at: now });
      return { row: { ...row, storageUsed, countUsed, warned }, kept };
    });
  }

  /** Marks a project for a recompute (a delete changed what it holds). */
  async markDirty(project: string): Promise<void> {
    const now = Date.now();
    const bump = () => this.knex(TABLES.dirty).where({ project }).update({ version: this.knex.raw('?? + 1', ['version']), marked_at: now });
    if ((await bump()) > 0) return;
    await this.knex(TABLES.dirty).insert({ project, version: 1, marked_at: now }).onConflict('project').ignore();
    // Another writer inserted first: this mark must still move the version past a running recompute.
    if (!(await this.knex(TABLES.dirty).where({ project, marked_at: now, version: 1 }).first())) await bump();
  }

  /** Projects waiting for a recompute, oldest mark first. */
  async dirty(limit: number): Promise<Array<{ project: string; version: number }>> {
    const rows = (await this.knex(TABLES.dirty).select('project', 'version').orderBy('marked_at').limit(limit)) as { project: string; version: number | string }[];
    return rows.map((r) => ({ project: r.project, version: Number(r.version) }));
  }

  /** Clears a mark, unless a newer delete marked the project again meanwhile. */
  async clearDirty(project: string, version: number): Promise<void> {
    await this.knex(TABLES.dirty).where({ project, version }).delete();
  }

  async getMeta(name: string): Promise<string | undefined> {
    const row = await this.knex(TABLES.meta).where({ name }).first();
    return row ? String(row.value) : undefined;
  }

  /** Sets `name` to `value` if it still holds `expected` (`undefined`: absent); true when it did. */
  async compareAndSetMeta(name: string, expected: string | undefined, value: string): Promise<boolean> {
    if (expected === undefined) {
      // ON CONFLICT DO NOTHING, then see whose value it holds.
      await this.knex(TABLES.meta).insert({ name, value }).onConflict('name').ignore();
      return (await this.getMeta(name)) === value;
    }
    return (await this.knex(TABLES.meta).where({ name, value: expected }).update({ value })) > 0;
  }

  async setMeta(name: string, value: string): Promise<void> {
    await this.knex(TABLES.meta).insert({ name, value }).onConflict('name').merge();
  }

  /** Locks the project's row for the rest of the transaction and reads it. */
  private async lock(project: string): Promise<QuotaRow> {
    const query = this.knex<ProjectRecord>(TABLES.projects).where({ project });
    const row = this.db.dialect === 'sqlite' ? await query.first() : await query.forUpdate().first();
    if (!row) throw new Error(`quota row of project ${project} vanished`);
    return toRow(row);
  }

  /** Usage at or above the warning threshold of a limit (never for unlimited). */
  private reached(used: number, limit: number): boolean {
    return limit >= 0 && used * 100 >= limit * this.warningPercent;
  }

  /** The warned flag after usage went down: cleared once both are below the threshold. */
  private stillWarned(row: QuotaRow, storageUsed: number, countUsed: number): boolean {
    return row.warned && (this.reached(storageUsed, row.storageLimit) || this.reached(countUsed, row.countLimit));
  }
}
