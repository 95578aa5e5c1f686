import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ArtifactPulledData, Digest, EventConsumer, EventDraft, EventService, EventType, JobService, PublishOptions } from '@wharf/sdk';
import type { EventsSettings } from '../config/types.js';
import type { RecordInTransaction } from '../metadata/types.js';
import { currentTransaction } from '../metadata/ambient-transaction.js';
import { withRetry } from '../metadata/db-errors.js';
import { DeliveryStore } from './delivery-store.js';
import { Dispatcher } from './dispatcher.js';
import { dialectOf } from '../metadata/connection.js';
import { withSqliteConnection, type SqliteConnection } from '../metadata/sqlite-direct.js';
import { writeEvents, writeEventsSqlite, type DeliveryTarget } from './outbox.js';
import { PullRecorder } from './pull-recorder.js';
import { Subscriptions } from './subscriptions.js';

/**
 * The kernel's durable events: the `coreServices.events` service, the recorder the registry's
 * write paths use inside their transactions, the batched pull recorder, this node's delivery
 * loop and the retention job.
 * @see docs/architecture/14-events.md
 */

export const PURGE_JOB = 'events.purge';
const PURGE_SCHEDULE = 'events.purge';
const PURGE_BATCH = 1000;
/** Pull batches this close together are a stream: the next one carries finished runs' completions. */
const PULLS_RECENT_MS = 20;

/** What the registry's write paths use; `undefined` from `writer` means nobody listens. */
export interface EventRecorder {
  writer(drafts: ReadonlyArray<EventDraft<unknown>>): RecordInTransaction | undefined;
  /**
   * Records a pull, batched with others (see pull-recorder.ts): resolves once it is stored
   * (group commit, `events.pullFlushMs: 0`), or `undefined` when it went into the buffer.
   */
  recordPull(draft: EventDraft<unknown>): Promise<void> | undefined;
}

export interface EventsRuntime extends EventRecorder {
  readonly service: EventService;
  readonly subscriptions: Subscriptions;
  readonly store: DeliveryStore;
  /** Declares the retention job (before the job workers start). */
  install(jobs: JobService): void;
  /** Makes this node's delivery loop look for work now (for every consumer). */
  wake(): void;
  /** Starts this node's delivery loop and schedules retention. */
  start(jobs: JobService): Promise<void>;
  stop(): Promise<void>;
}

export interface EventsRuntimeDeps {
  readonly knex: () => Knex;
  readonly settings: EventsSettings;
  readonly logger: Logger;
  readonly now?: () => number;
  /**
   * Stores the pull times of a batch of pulls (the manifests' `pulled_at`), in `trx` when the
   * batch has pull events to write with them; pulls are batched even when no consumer wants
   * their events.
   */
  readonly pullTimes?: (pulls: ReadonlyArray<{ repository: string; digest: Digest; at: Date }>, trx?: Knex.Transaction) => Promise<void>;
  /** The same on SQLite, synchronously on the connection, inside the batch's transaction. */
  readonly pullTimesSqlite?: (db: SqliteConnection, pulls: ReadonlyArray<{ repository: string; digest: Digest; at: Date }>) => void;
}

export function createEventsRuntime(deps: EventsRuntimeDeps): EventsRuntime {
  const { settings, logger } = deps;
  const now = deps.now ?? Date.now;
  const subscriptions = new Subscriptions({ maxAttempts: settings.maxAttempts });
  let store: DeliveryStore | undefined;
  const storeOf = (): DeliveryStore => {
    if (store) return store;
    store = new DeliveryStore(deps.knex(), now);
    // A pull batch under way, waiting, or likely soon (pulls are coming in) carries the
    // delivery loop's completions along.
    store.carryCompletionsWhile(() => pulls.busy || Date.now() - lastPullBatch < PULLS_RECENT_MS);
    return store;
  };
  let dispatcher: Dispatcher | undefined;
  /** Wakes this node's delivery loop: for the consumers and partitions given, else for all. */
  const wake = (targets?: readonly DeliveryTarget[]): void => {
    if (targets?.length !== 0) dispatcher?.wake(targets);
  };

  /** Wakes the delivery loop once the transaction commits (its events become visible then). */
  const wakeAfter = (trx: Knex.Transaction | Knex, targets: readonly DeliveryTarget[]): void => {
    const pending = (trx as Knex.Transaction).executionPromise;
    if (pending) pending.then(() => wake(targets), () => undefined);
    else wake(targets);
  };

  const writeInTransaction = async (trx: Knex.Transaction | Knex, drafts: ReadonlyArray<EventDraft<unknown>>): Promise<void> => {
    const targets = await writeEvents(trx, drafts, subscriptions, now());
    if (targets.length > 0) wakeAfter(trx, targets);
  };

  const writeAlone = async (drafts: ReadonlyArray<EventDraft<unknown>>): Promise<void> => {
    if (!drafts.some((d) => subscriptions.consumersOf(d.type.name).length > 0)) return;
    wake(await deps.knex().transaction((trx) => writeEvents(trx, drafts, subscriptions, now())));
  };

  /** When the last pull batch was written on SQLite (see carryCompletionsWhile). */
  let lastPullBatch = Number.NEGATIVE_INFINITY;
  /**
   * A batch of pulls is one transaction: its events (identical pulls coalesced), then the
   * manifests' pull times, so the batch costs one commit (the times last: on PostgreSQL and
   * MySQL a hot manifest's row is locked only for the commit). On SQLite the batch is one
   * synchronous better-sqlite3 transaction with cached statements: no knex query is built.
   */
  const writePulls = async (drafts: ReadonlyArray<EventDraft<unknown>>): Promise<void> => {
    const at = new Date(now());
    const times = drafts.map((d) => ({ repository: (d.data as ArtifactPulledData).repository, digest: (d.data as ArtifactPulledData).digest, at }));
    const events = coalescePulls(drafts).filter((d) => subscriptions.consumersOf(d.type.name).length > 0);
    const knex = deps.knex();
    const sqliteTimes = deps.pullTimesSqlite;
    if (sqliteTimes && dialectOf(knex) === 'sqlite') {
      // The batch also carries the completions of runs delivered meanwhile, and claims its
      // deliveries for this node's loop where it may start them: one transaction, not three.
      const targets = await withSqliteConnection(knex, (db) => {
        const carried = storeOf().takeCompletions();
        const claim = dispatcher?.inlineClaim(at.getTime());
        let written: ReturnType<typeof writeEventsSqlite>;
        try {
          written = db.transaction(() => {
            carried?.apply(db);
            const result = writeEventsSqlite(db, events, subscriptions, at.getTime(), claim);
            sqliteTimes(db, times);
            return result;
          }).immediate();
        } catch (err) {
          carried?.requeue();
          throw err;
        }
        carried?.settle();
        lastPullBatch = Date.now();
        if (written.runs.length > 0) dispatcher?.adopt(written.runs);
        return written.targets;
      });
      wake(targets);
      return;
    }
    if (events.length === 0) {
      // Nobody wants the events: the times alone are one statement, no transaction needed.
      await deps.pullTimes?.(times);
      return;
    }
    const targets = await withRetry(() =>
      knex.transaction(async (trx) => {
        const written = await writeEvents(trx, events, subscriptions, at.getTime());
        await deps.pullTimes?.(times, trx);
        return written;
      }),
    );
    wake(targets);
  };
  const pulls: PullRecorder = new PullRecorder({
    write: writePulls,
    batchSize: settings.pullBatchSize,
    flushMs: settings.pullFlushMs,
    onError: (err, count) => logger.error({ err, pulls: count }, 'could not record a batch of pull events'),
    onDropped: (count) => logger.warn({ pulls: count }, 'pull events dropped: the database is not keeping up with the pull buffer (events.pullFlushMs)'),
  });

  const service: EventService = Object.freeze({
    async publish(events: EventDraft<unknown> | ReadonlyArray<EventDraft<unknown>>, options?: PublishOptions): Promise<void> {
      const drafts = Array.isArray(events) ? (events as ReadonlyArray<EventDraft<unknown>>) : [events as EventDraft<unknown>];
      for (const d of drafts) {
        if (d?.type?.$$type !== 'wharf/EventType') throw new TypeError('publish: each event needs a type made by defineEventType');
      }
      // An explicit transaction, else the one of database.transaction(fn) around this call.
      const trx = options?.transaction ?? currentTransaction();
      if (trx) await writeInTransaction(trx, drafts);
      else await writeAlone(drafts);
    },
    subscribe(consumer: EventConsumer): void {
      subscriptions.add(consumer);
    },
    hasSubscribers(type: EventType<unknown>): boolean {
      return subscriptions.consumersOf(type.name).length > 0;
    },
    consumers() {
      const all = subscriptions.all();
      return storeOf().status(all.map((s) => s.name), (name) => subscriptions.get(name)?.patterns ?? []);
    },
  });

  return {
    service,
    subscriptions,
    get store() {
      return storeOf();
    },
    writer(drafts) {
      if (!drafts.some((d) => subscriptions.consumersOf(d.type.name).length > 0)) return undefined;
      return (trx) => writeInTransaction(trx, drafts);
    },
    wake: () => wake(),
    recordPull(draft) {
      if (!deps.pullTimes && !deps.pullTimesSqlite && subscriptions.consumersOf(draft.type.name).length === 0) return undefined;
      return pulls.record(draft);
    },
    install(jobs) {
      jobs.define(PURGE_JOB, async (ctx) => {
        const hour = 3_600_000;
        const t = now();
        const purged = await storeOf().purge({ delivered: t - settings.retentionHours * hour, dead: t - settings.deadRetentionHours * hour }, PURGE_BATCH);
        await ctx.log(`deleted ${purged.deliveries} finished deliveries and ${purged.events} events`);
      });
    },
    async start(jobs) {
      subscriptions.seal();
      await jobs.schedule(PURGE_SCHEDULE, '23 * * * *', PURGE_JOB, {});
      if (subscriptions.all().length === 0) return;
      dispatcher = new Dispatcher({
        store: storeOf(),
        subscriptions,
        logger: logger.child({ component: 'events' }),
        pollIntervalMs: settings.pollIntervalMs,
        leaseMs: settings.leaseSeconds * 1000,
        holder: `${hostname().slice(0, 60)}:${process.pid}:${randomBytes(4).toString('hex')}`,
        stopTimeoutMs: 5000,
      });
      dispatcher.start();
    },
    async stop() {
      await pulls.drain();
      await dispatcher?.stop();
      dispatcher = undefined;
    },
  };
}

/**
 * Identical pulls of one batch (same manifest and reference, actor, address and user agent: a
 * CI fleet pulling one image) become one event with their count, so a hot image costs one event
 * per batch, not one per pull. Pulls that differ in any of these stay apart.
 */
export function coalescePulls(drafts: ReadonlyArray<EventDraft<unknown>>): EventDraft<unknown>[] {
  const byKey = new Map<string, EventDraft<unknown>>();
  for (const draft of drafts) {
    const data = draft.data as ArtifactPulledData;
    const key = JSON.stringify([draft.partition, data.digest, data.reference, draft.actor?.subject, draft.actor?.provider, draft.request?.ip, draft.request?.userAgent]);
    const seen = byKey.get(key);
    if (seen) byKey.set(key, { ...seen, data: { ...(seen.data as ArtifactPulledData), count: (seen.data as ArtifactPulledData).count + data.count } });
    else byKey.set(key, draft);
  }
  return [...byKey.values()];
}
