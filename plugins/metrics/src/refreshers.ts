import type { ArtifactService, DatabaseService, EventService, JobService, UploadSessionService } from '@wharf/sdk';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { WharfMetrics } from './metrics.js';

/**
 * Gauges that need the database are recomputed on a timer, never during a scrape, so a scrape
 * costs only the text rendering: `status` (job queue depth, event consumer lag, open uploads)
 * often, `inventory` (projects, repositories, artifacts, bytes: a walk over every repository,
 * page by page) rarely. The database pool gauge reads the pool's in-memory counters at scrape.
 */

export interface RefreshDeps {
  readonly jobs: JobService;
  readonly events: EventService;
  readonly uploads: UploadSessionService;
  readonly artifacts: ArtifactService;
  readonly database: DatabaseService;
}

/** Open upload sessions are counted up to this many (one page of `listStale`). */
const UPLOAD_COUNT_CAP = 1000;
const PAGE = 1000;

export async function refreshStatus(m: WharfMetrics, deps: RefreshDeps): Promise<void> {
  const [depth, consumers, uploads] = await Promise.all([
    deps.jobs.queueDepth(),
    deps.events.consumers(),
    // Every session not written to since a minute from now: all of them but those a writer holds.
    deps.uploads.listStale(new Date(Date.now() + 60_000), UPLOAD_COUNT_CAP),
  ]);
  m.jobs.queueDepth.reset();
  for (const [type, n] of Object.entries(depth)) m.jobs.queueDepth.set({ type }, n);
  m.events.lag.reset();
  m.events.backlog.reset();
  for (const c of consumers) {
    m.events.lag.set({ consumer: c.name }, c.lagMs / 1000);
    m.events.backlog.set({ consumer: c.name, status: 'pending' }, c.pending);
    m.events.backlog.set({ consumer: c.name, status: 'running' }, c.running);
    m.events.backlog.set({ consumer: c.name, status: 'dead' }, c.dead);
  }
  m.content.uploadsInProgress.set(uploads.length);
}

/** The project of a repository as Harbor and the projects plugin see it: its first path segment. */
export function projectOf(repository: string): string | undefined {
  const slash = repository.indexOf('/');
  return slash > 0 ? repository.slice(0, slash) : undefined;
}

export async function refreshInventory(m: WharfMetrics, deps: RefreshDeps): Promise<void> {
  const projects = new Map<string, { repositories: number; artifacts: number; bytes: number }>();
  let repositories = 0;
  let artifacts = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.artifacts.listRepositories({ limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    for (const repo of page.items) {
      repositories++;
      artifacts += repo.artifactCount;
      const project = projectOf(repo.name);
      if (project === undefined) continue;
      const p = projects.get(project) ?? { repositories: 0, artifacts: 0, bytes: 0 };
      p.repositories++;
      p.artifacts += repo.artifactCount;
      p.bytes += repo.size;
      projects.set(project, p);
    }
    cursor = page.next;
  } while (cursor !== undefined);
  const inv = m.inventory;
  inv.projects.set(projects.size);
  inv.repositories.set(repositories);
  inv.artifacts.set(artifacts);
  // Reset first: a deleted project's series must go away.
  inv.projectRepositories.reset();
  inv.projectArtifacts.reset();
  inv.projectBytes.reset();
  for (const [project, p] of projects) {
    inv.projectRepositories.set({ project }, p.repositories);
    inv.projectArtifacts.set({ project }, p.artifacts);
    inv.projectBytes.set({ project }, p.bytes);
  }
  inv.refreshed.set(Date.now() / 1000);
}

/** tarn's pool (knex's), as far as the gauge reads it. */
interface PoolCounters {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  max?: number;
}

/** A gauge that reads the knex pool's in-memory counters at each scrape (no query). */
export function watchPool(m: WharfMetrics, database: DatabaseService): void {
  const pool = () => (database.knex.client as { pool?: PoolCounters }).pool;
  new Gauge({
    name: 'wharf_database_pool_connections',
    help: 'Database pool connections of this node by state (used, free, pending acquires, max)',
    labelNames: ['state'],
    registers: [m.registry],
    collect() {
      const p = pool();
      if (!p) return;
      this.set({ state: 'used' }, p.numUsed());
      this.set({ state: 'free' }, p.numFree());
      this.set({ state: 'pending' }, p.numPendingAcquires());
      if (typeof p.max === 'number') this.set({ state: 'max' }, p.max);
    },
  });
}

/** Runs `refresh` now and every `seconds`, one run at a time; failures are logged. */
export function every(seconds: number, name: string, refresh: () => Promise<void>, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= refresh()
      .catch((err: unknown) => logger.warn({ err, refresh: name }, 'metrics refresh failed'))
      .finally(() => (running = undefined));
    return running;
  };
  void run();
  const timer = setInterval(run, seconds * 1000);
  timer.unref();
  return {
    // Waits for a run in progress: it must not query a database the kernel is closing.
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
