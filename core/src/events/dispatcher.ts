import type { Logger } from 'pino';
import { backoffDelay } from '../jobs/backoff.js';
import { Wakeable } from '../jobs/embedded/wakeable.js';
import { envelopeOf, type ClaimedDelivery, type DeliveryStore } from './delivery-store.js';
import type { InlineClaim, InlineRun } from './outbox.js';
import type { Subscription, Subscriptions } from './subscriptions.js';

/**
 * One node's delivery loop. Each pass reclaims deliveries of dead nodes, then, per consumer
 * with free slots, claims a run of each waiting partition (its head and the events after it),
 * all of a consumer's runs in the same few statements, and hands each run's events to the
 * handler one by one, in order. A pass looks only where there may be work, since a pass that
 * finds nothing still costs a query per consumer:
 * - a local publish wakes the loop for the consumers it wrote deliveries for, unless this node
 *   is already delivering that partition to that consumer (the run's end picks the new events up);
 * - a finished run wakes it for its consumer when work may wait behind it: the run was full,
 *   the consumer had no free slot, or the consumer got new events while the run went on;
 * - every `pollIntervalMs` a pass looks at every consumer: events other nodes recorded, retries
 *   that became due.
 * On SQLite a pull batch's transaction claims its deliveries for this loop as it writes them
 * ({@link Dispatcher.inlineClaim}, then {@link Dispatcher.adopt}): no claim of their own.
 */

/** Most events claimed and completed together from one partition. */
const RUN_SIZE = 50;

export interface DispatcherOptions {
  readonly store: DeliveryStore;
  readonly subscriptions: Subscriptions;
  readonly logger: Logger;
  readonly pollIntervalMs: number;
  readonly leaseMs: number;
  /** This node's name in `holder` columns. */
  readonly holder: string;
  /** How long running handlers get at shutdown before their deliveries are handed back. */
  readonly stopTimeoutMs: number;
}

interface Running {
  readonly partition: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** What a pass knew when it claimed a run: tells, when the run ends, whether work may wait behind it. */
interface ClaimContext {
  /** The consumer's local publishes counted before its candidates were read. */
  readonly publishes: number;
  /** The consumer had no slot left for other partitions' heads. */
  readonly busy: boolean;
}

export class Dispatcher {
  readonly #running = new Map<string, Map<number, Running>>();
  readonly #wakeable = new Wakeable();
  #loop: Promise<void> | undefined;
  #stopped = false;
  #lastReap = 0;
  #lastPoll = 0;
  /** Consumers the next pass looks at (besides all of them when a poll is due). */
  readonly #dirty = new Set<string>();
  /** Local publishes per consumer so far. */
  readonly #publishes = new Map<string, number>();
  /**
   * Partitions published to while the pass was claiming for their consumer: whether they need
   * another pass is known only once the claim is done (a run it claimed picks them up).
   */
  readonly #claiming = new Map<string, Set<string>>();

  constructor(private readonly options: DispatcherOptions) {}

  start(): void {
    if (this.#loop || this.#stopped) return;
    this.#loop = this.loop();
  }

  /**
   * Looks for work now instead of at the next poll: for the consumers and partitions that just
   * got deliveries on this node, or for every consumer when none are named.
   */
  wake(targets?: ReadonlyArray<{ consumer: string; partition: string }>): void {
    if (!targets) {
      for (const sub of this.options.subscriptions.all()) this.#dirty.add(sub.name);
      this.#wakeable.wake();
      return;
    }
    let wake = false;
    for (const { consumer, partition } of targets) {
      this.#publishes.set(consumer, (this.#publishes.get(consumer) ?? 0) + 1);
      const claiming = this.#claiming.get(consumer);
      if (claiming) claiming.add(partition);
      else if (!this.isRunning(consumer, partition)) {
        this.#dirty.add(consumer);
        wake = true;
      }
    }
    if (wake) this.#wakeable.wake();
  }

  /**
   * Lets a write claim the deliveries it inserts for this loop (outbox.ts, SQLite): a run may
   * start for a consumer with a free slot whose pass is not claiming at that moment (the
   * order rule is checked by the write). `undefined` when the loop does not run.
   */
  inlineClaim(now: number): InlineClaim | undefined {
    if (!this.#loop || this.#stopped) return undefined;
    const started = new Map<string, number>();
    return {
      holder: this.options.holder,
      leaseUntil: now + this.options.leaseMs,
      maxRun: RUN_SIZE,
      mayStart: (consumer) => {
        const sub = this.options.subscriptions.get(consumer);
        const n = started.get(consumer) ?? 0;
        if (!sub || this.#claiming.has(consumer) || this.runningOf(consumer).size + n >= sub.concurrency) return false;
        started.set(consumer, n + 1);
        return true;
      },
    };
  }

  /** Delivers runs a write claimed for this loop ({@link inlineClaim}), once it committed. */
  adopt(runs: readonly InlineRun[]): void {
    for (const { consumer, rows } of runs) {
      const sub = this.options.subscriptions.get(consumer);
      if (!sub) continue;
      const run = rows.map((row) => ({ consumer, attempt: 1, event: envelopeOf(row) }));
      this.run(sub, run, this.runningOf(consumer), { publishes: this.#publishes.get(consumer) ?? 0, busy: false });
    }
  }

  private isRunning(consumer: string, partition: string): boolean {
    for (const r of this.runningOf(consumer).values()) if (r.partition === partition) return true;
    return false;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeable.wake();
    await this.#loop;
    const all = [...this.#running.values()].flatMap((m) => [...m.values()]);
    for (const r of all) r.controller.abort(new Error('the node is shutting down'));
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, this.options.stopTimeoutMs).unref());
    await Promise.race([Promise.allSettled(all.map((r) => r.done)), timeout]);
    const released = await this.options.store.release(this.options.holder).catch((err: unknown) => {
      this.options.logger.warn({ err }, 'could not hand back running deliveries; they return when their lease ends');
      return 0;
    });
    if (released > 0) this.options.logger.info({ released }, 'unfinished deliveries handed back to other nodes');
  }

  private async loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.pass();
      } catch (err) {
        this.options.logger.warn({ err }, 'event delivery pass failed; trying again');
      }
      if (this.#stopped) break;
      await this.#wakeable.wait(Math.max(0, this.#lastPoll + this.options.pollIntervalMs - Date.now()));
    }
  }

  private async pass(): Promise<void> {
    const { store, leaseMs } = this.options;
    const now = Date.now();
    if (now - this.#lastReap >= leaseMs / 2) {
      this.#lastReap = now;
      const reaped = await store.reap();
      if (reaped > 0) this.options.logger.info({ reaped }, 'deliveries of a node that stopped renewing them are retried');
    }
    const poll = now - this.#lastPoll >= this.options.pollIntervalMs;
    if (poll) this.#lastPoll = now;
    const subs = this.options.subscriptions.all().filter((sub) => poll || this.#dirty.has(sub.name));
    this.#dirty.clear();
    for (const sub of subs) {
      if (this.#stopped) return;
      const running = this.runningOf(sub.name);
      const free = sub.concurrency - running.size;
      if (free <= 0) continue;
      const publishes = this.#publishes.get(sub.name) ?? 0;
      const published = new Set<string>();
      this.#claiming.set(sub.name, published);
      try {
        const { heads, runs } = await store.claimWaiting(sub.name, free, RUN_SIZE, this.options.holder, leaseMs);
        // Claimed runs are delivered even when stop() came meanwhile: it aborts and hands them back.
        for (const run of runs) this.run(sub, run, running, { publishes, busy: heads === free });
      } finally {
        this.#claiming.delete(sub.name);
        // Published to during the claim: a run of that partition picks the events up when it
        // ends; any other partition needs another pass.
        if ([...published].some((p) => !this.isRunning(sub.name, p))) {
          this.#dirty.add(sub.name);
          this.#wakeable.wake();
        }
      }
    }
  }

  private runningOf(name: string): Map<number, Running> {
    let map = this.#running.get(name);
    if (!map) this.#running.set(name, (map = new Map()));
    return map;
  }

  private run(sub: Subscription, run: ClaimedDelivery[], running: Map<number, Running>, claim: ClaimContext): void {
    const controller = new AbortController();
    const key = run[0]!.event.seq;
    const done = this.deliver(sub, run, controller).finally(() => {
      running.delete(key);
      const published = (this.#publishes.get(sub.name) ?? 0) !== claim.publishes;
      if (run.length >= RUN_SIZE || claim.busy || published) {
        this.#dirty.add(sub.name);
        this.#wakeable.wake();
      }
    });
    running.set(key, { partition: run[0]!.event.partition, controller, done });
  }

  /**
   * Delivers a run in order. Delivered events are marked together at the end; a failure marks
   * those before it delivered, records the failure (retry later, or dead), and hands the rest
   * back untried, so the partition resumes at the failed event. A consumer with `handleBatch`
   * gets the first attempts of a run in one call (a failure is the first event's); retries go
   * to `handle`, one by one.
   */
  private async deliver(sub: Subscription, run: ClaimedDelivery[], controller: AbortController): Promise<void> {
    const { store, holder, leaseMs } = this.options;
    const seqs = run.map((c) => c.event.seq);
    const logger = this.options.logger.child({ consumer: sub.name, partition: run[0]!.event.partition });
    // Renew the lease while the handler runs; losing it means another node may take over.
    const renew = setInterval(() => {
      store.renew(sub.name, seqs, holder, leaseMs).then(
        (held) => { if (!held) controller.abort(new Error('the delivery lease was lost')); },
        (err: unknown) => logger.warn({ err }, 'could not renew the delivery lease'),
      );
    }, Math.max(50, Math.floor(leaseMs / 3)));
    const delivered: number[] = [];
    /** Records the failure of `failed` (after marking what was delivered) and hands the rest back. */
    const failAt = async (failed: ClaimedDelivery, err: unknown): Promise<void> => {
      const { event, attempt } = failed;
      const log = logger.child({ eventId: event.id, eventType: event.type, seq: event.seq });
      await store.completeRun(sub.name, delivered, holder);
      delivered.length = 0;
      if (this.#stopped && controller.signal.aborted) return; // stop() hands the rest back
      const message = err instanceof Error ? err.message : String(err);
      const dead = attempt >= sub.maxAttempts;
      const retryAt = dead ? undefined : Date.now() + backoffDelay(attempt, sub.backoffMs, sub.maxBackoffMs);
      await store.fail(sub.name, event.seq, holder, message, retryAt).catch((e: unknown) => log.warn({ err: e }, 'could not record the failed delivery'));
      await store.releaseRun(sub.name, seqs.filter((s) => s > event.seq), holder);
      if (dead) log.error({ err, attempt }, 'event delivery failed for good; the event is dead for this consumer (retry it through the API)');
      else log.warn({ err, attempt, retryInMs: (retryAt ?? 0) - Date.now() }, 'event delivery failed; it will be retried');
    };
    try {
      const batch = sub.consumer.handleBatch;
      for (let i = 0; i < run.length && !controller.signal.aborted; ) {
        const rest = run.slice(i);
        if (batch && rest.length > 1 && rest.every((c) => c.attempt === 1)) {
          try {
            await batch.call(sub.consumer, { events: rest.map((c) => c.event), maxAttempts: sub.maxAttempts, signal: controller.signal, logger }, {});
            delivered.push(...rest.map((c) => c.event.seq));
          } catch (err) {
            await failAt(rest[0]!, err);
            return;
          }
          break;
        }
        const claimed = run[i]!;
        const { event, attempt } = claimed;
        const log = logger.child({ eventId: event.id, eventType: event.type, seq: event.seq });
        try {
          await sub.consumer.handle({ event, attempt, maxAttempts: sub.maxAttempts, signal: controller.signal, logger: log }, {});
          delivered.push(event.seq);
        } catch (err) {
          await failAt(claimed, err);
          return;
        }
        i += 1;
      }
      const held = await store.completeRun(sub.name, delivered, holder);
      if (held < delivered.length) logger.warn({ delivered: delivered.length, held }, 'deliveries finished after their lease was lost; they may run again');
      // Stopped midway: what did not run goes back untried.
      await store.releaseRun(sub.name, seqs.filter((s) => !delivered.includes(s)), holder);
    } finally {
      clearInterval(renew);
    }
  }
}
