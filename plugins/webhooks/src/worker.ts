import type { Logger } from 'pino';
import type { WebhookTarget, WebhookTargetRegistry } from '@wharf/sdk';
import type { WebhooksConfig } from './config.js';
import type { Delivery, DeliveryStore, FinishedAttempt } from './delivery-store.js';
import type { FanoutQueue } from './fanout-queue.js';
import type { PolicyStore } from './policy-store.js';
import type { SecretBox } from './secret-box.js';
import { signingHeaders } from './signing.js';

/**
 * Each node's delivery loop: finds due rows (turning queued events into rows when it has slots
 * that no due row fills), claims each with a conditional UPDATE (one node
 * wins), sends it through its target kind, and records the outcome: succeeded, or pending again
 * with exponential backoff, or failed after the last attempt. Rows are independent, so a dead
 * receiver only delays its own rows; at most `perPolicyConcurrency` rows of one policy are in
 * flight per node, so a slow receiver cannot take every slot.
 *
 * The loop shares the database with pushes (on SQLite, one connection): a look reads ids only,
 * claims its pick in one statement, and outcomes are written in batches (one transaction per
 * `OUTCOME_DELAY_MS`), so the statements per delivery stay few however long the backlog.
 */

export interface WorkerDeps {
  readonly deliveries: DeliveryStore;
  readonly queue: FanoutQueue;
  readonly policies: PolicyStore;
  readonly targets: WebhookTargetRegistry;
  readonly box: SecretBox;
  readonly config: WebhooksConfig['delivery'];
  readonly logger: Logger;
  readonly node: string;
}

/** How long a wake-up waits for others to join it. */
const WAKE_DELAY_MS = 20;
/** How long a finished attempt waits for others before their outcomes are written together. */
const OUTCOME_DELAY_MS = 25;
/** Outcomes written in one transaction at most. */
const OUTCOME_BATCH = 64;
/** How often a look also takes rows whose lease passed (their node died). */
const EXPIRED_LOOK_MS = 1000;
/** Queued events turned into delivery rows at once, at most. */
const MATERIALIZE_BATCH = 16;
/** A policy's signing secret never changes; the cache only spares a read per delivery. */
const SECRET_CACHE_MS = 60_000;

export const SECRET_CONTEXT = 'policy-secret';
export const AUTH_CONTEXT = 'auth-header';

export function backoff(config: WebhooksConfig['delivery'], attempt: number): number {
  return Math.min(config.maxBackoffMs, config.backoffMs * 2 ** Math.max(0, attempt - 1));
}

export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private scheduled: NodeJS.Timeout | undefined;
  private running = false;
  /** The look in progress, which close() waits for: a query after the pool closed would hang. */
  private looking: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly perPolicy = new Map<number, number>();
  /** One controller per attempt in flight (not `AbortSignal.any` on a long-lived signal, whose dependants pile up). */
  private readonly attempts = new Set<AbortController>();
  private readonly secrets = new Map<number, { secret: string; until: number }>();
  private claims = 0;
  private lastExpiredLook = Number.NEGATIVE_INFINITY;
  private outcomes: { attempt: FinishedAttempt; done: () => void }[] = [];
  private outcomeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: WorkerDeps) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.deps.config.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /**
   * Looks for due rows soon (new rows were written, or a slot came free). Calls within
   * `WAKE_DELAY_MS` are one look: under load a look claims a batch instead of a row, which saves
   * queries on the connection pushes use too.
   */
  wake(): void {
    if (this.stopped || this.scheduled) return;
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined;
      this.look();
    }, WAKE_DELAY_MS);
    this.scheduled.unref();
  }

  /**
   * Resolves once no look is scheduled or running. The store tests wait for it after boot, so
   * the rows they claim by hand are not taken by the worker's first look.
   */
  async whenIdle(): Promise<void> {
    for (;;) {
      if (this.looking) await this.looking;
      else if (this.scheduled) await new Promise((resolve) => setTimeout(resolve, WAKE_DELAY_MS));
      else return;
    }
  }

  private look(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.looking = this.tick()
      .catch((err: unknown) => this.deps.logger.warn({ err: errorText(err) }, 'webhook delivery poll failed'))
      .finally(() => {
        this.running = false;
        this.looking = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      });
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.scheduled) clearTimeout(this.scheduled);
    for (const controller of this.attempts) controller.abort();
    // A poll in progress finishes before the database closes (else its next query waits on a
    // connection that is gone).
    await this.looking;
    // Interrupted rows stay `running` and are taken over after their lease: nothing is lost.
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private async tick(): Promise<void> {
    const { config } = this.deps;
    const free = config.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const now = Date.now();
    const capped = [...this.perPolicy].filter(([, n]) => n >= config.perPolicyConcurrency).map(([id]) => id);
    // Rows of a node that died wait for their lease to pass: looking for them once per
    // EXPIRED_LOOK_MS is soon enough, and spares a query on most looks.
    const expired = now - this.lastExpiredLook >= EXPIRED_LOOK_MS;
    if (expired) this.lastExpiredLook = now;
    let picked = this.pick(await this.deps.deliveries.dueIds(now, free * 2, capped, { expired }), free);
    // Slots no due row fills: queued events become delivery rows now (not at push time, so a
    // backlog behind slow receivers stays one queue row per event), then look again.
    if (picked.length < free && !this.stopped && (await this.deps.queue.materialize(MATERIALIZE_BATCH, now)) > 0) {
      picked = this.pick(await this.deps.deliveries.dueIds(now, free * 2, capped, { expired: false }), free);
      // More may be queued: look again once these are claimed.
      this.again = true;
    }
    if (picked.length === 0 || this.stopped) return;
    const holder = `${this.deps.node}:${++this.claims}`.slice(-64);
    for (const row of await this.deps.deliveries.claimMany(picked, holder, now, config.leaseSeconds * 1000)) {
      this.perPolicy.set(row.policyId, (this.perPolicy.get(row.policyId) ?? 0) + 1);
      const run = this.attempt(row, holder).finally(() => {
        this.inFlight.delete(row.id);
        const left = (this.perPolicy.get(row.policyId) ?? 1) - 1;
        if (left > 0) this.perPolicy.set(row.policyId, left);
        else this.perPolicy.delete(row.policyId);
        this.wake();
      });
      this.inFlight.set(row.id, run);
    }
  }

  /** Due rows to claim: at most `free`, within each policy's limit, none in flight here. */
  private pick(due: readonly { id: string; policyId: number }[], free: number): string[] {
    const { config } = this.deps;
    const picked: string[] = [];
    const counts = new Map(this.perPolicy);
    for (const row of due) {
      if (picked.length >= free) break;
      if (this.inFlight.has(row.id) || (counts.get(row.policyId) ?? 0) >= config.perPolicyConcurrency) continue;
      counts.set(row.policyId, (counts.get(row.policyId) ?? 0) + 1);
      picked.push(row.id);
    }
    return picked;
  }

  /** The policy's signing secret, read at most once a minute per policy (a node sends many deliveries of one policy). */
  private async secretOf(policyId: number): Promise<string | undefined> {
    const cached = this.secrets.get(policyId);
    if (cached && cached.until > Date.now()) return cached.secret;
    const policy = await this.deps.policies.byId(policyId);
    if (!policy) return undefined;
    const secret = this.deps.box.open(policy.secretSealed, SECRET_CONTEXT);
    this.secrets.set(policyId, { secret, until: Date.now() + SECRET_CACHE_MS });
    return secret;
  }

  private async attempt(row: Delivery, holder: string): Promise<void> {
    const attempt = row.attempts;
    const { config, logger } = this.deps;
    const started = performance.now();
    let ok = false;
    let responseCode: number | undefined;
    let error: string | undefined;
    // A target kind's error may quote the address (Slack's carries its token) or the auth header:
    // neither reaches the log or the delivery history.
    const hidden = [row.target.address];
    try {
      const secret = await this.secretOf(row.policyId);
      if (secret === undefined) return; // deleted meanwhile: its rows go with it
      const kind = this.deps.targets.get(row.target.type);
      if (!kind) throw new Error(`no webhook target kind "${row.target.type}" on this node`);
      const target: WebhookTarget = {
        type: row.target.type,
        address: row.target.address,
        authHeader: row.target.authHeaderSealed ? this.deps.box.open(row.target.authHeaderSealed, AUTH_CONTEXT) : undefined,
        skipCertVerify: row.target.skipCertVerify,
        caCertPem: row.target.caCertPem,
        payloadFormat: row.target.payloadFormat,
      };
      if (target.authHeader) hidden.push(target.authHeader);
      const controller = new AbortController();
      const timeout = setTimeout(() => controller.abort(new Error(`timed out after ${config.timeoutMs} ms`)), config.timeoutMs);
      this.attempts.add(controller);
      let result: { statusCode: number };
      try {
        result = await kind.deliver({
          target,
          event: { ...row.event, deliveryId: row.id },
          sign: (body) => signingHeaders(secret, row.id, body),
          timeoutMs: config.timeoutMs,
          signal: controller.signal,
        });
      } finally {
        clearTimeout(timeout);
        this.attempts.delete(controller);
      }
      responseCode = result.statusCode;
      ok = responseCode >= 200 && responseCode < 300;
      if (!ok) error = `receiver answered ${responseCode}`;
    } catch (err) {
      error = errorText(err, hidden);
    }
    if (this.stopped && !ok) return; // shutting down: the lease hands the row to the next node
    const retryAt = ok || attempt >= config.maxAttempts ? undefined : Date.now() + backoff(config, attempt);
    const durationMs = performance.now() - started;
    await this.record({ id: row.id, holder, attempt, outcome: { ok, responseCode, durationMs, error }, retryAt });
    // The address may carry a token in its path: log the delivery id and policy, not the address.
    if (ok) logger.debug({ delivery: row.id, policy: row.policyId, attempt, status: responseCode }, 'webhook delivered');
    else logger.info({ delivery: row.id, policy: row.policyId, attempt, status: responseCode, error, retry: retryAt !== undefined }, 'webhook delivery failed');
  }

  /** Queues an outcome; resolves once it is written (with others, in one transaction). */
  private record(attempt: FinishedAttempt): Promise<void> {
    return new Promise<void>((done) => {
      this.outcomes.push({ attempt, done });
      if (this.outcomes.length >= OUTCOME_BATCH) this.flushOutcomes();
      else if (!this.outcomeTimer) {
        this.outcomeTimer = setTimeout(() => this.flushOutcomes(), OUTCOME_DELAY_MS);
        this.outcomeTimer.unref();
      }
    });
  }

  private flushOutcomes(): void {
    if (this.outcomeTimer) clearTimeout(this.outcomeTimer);
    this.outcomeTimer = undefined;
    const batch = this.outcomes;
    this.outcomes = [];
    if (batch.length === 0) return;
    this.deps.deliveries
      .finishMany(batch.map((b) => b.attempt))
      // Not written: the rows stay `running` and are sent again after their lease (at least once).
      .catch((err: unknown) => this.deps.logger.warn({ err: errorText(err), deliveries: batch.length }, 'recording webhook delivery outcomes failed'))
      .finally(() => batch.forEach((b) => b.done()));
  }
}

export function errorText(err: unknown, hidden: readonly string[] = []): string {
  let text = err instanceof Error ? err.message : String(err);
  for (const value of hidden) if (value) text = text.split(value).join('[redacted]');
  return text.slice(0, 500);
}
