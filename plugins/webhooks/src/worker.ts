import type { Logger } from 'pino';
import type { WebhookTarget, WebhookTargetRegistry } from '@wharf/sdk';
import type { WebhooksConfig } from './config.js';
import type { Delivery, DeliveryStore } from './delivery-store.js';
import type { PolicyStore } from './policy-store.js';
import type { SecretBox } from './secret-box.js';
import { signingHeaders } from './signing.js';

/**
 * Each node's delivery loop: finds due rows, claims each with a conditional UPDATE (one node
 * wins), sends it through its target kind, and records the outcome: succeeded, or pending again
 * with exponential backoff, or failed after the last attempt. Rows are independent, so a dead
 * receiver only delays its own rows; at most `perPolicyConcurrency` rows of one policy are in
 * flight per node, so a slow receiver cannot take every slot.
 */

export interface WorkerDeps {
  readonly deliveries: DeliveryStore;
  readonly policies: PolicyStore;
  readonly targets: WebhookTargetRegistry;
  readonly box: SecretBox;
  readonly config: WebhooksConfig['delivery'];
  readonly logger: Logger;
  readonly node: string;
}

export const SECRET_CONTEXT = 'policy-secret';
export const AUTH_CONTEXT = 'auth-header';

export function backoff(config: WebhooksConfig['delivery'], attempt: number): number {
  return Math.min(config.maxBackoffMs, config.backoffMs * 2 ** Math.max(0, attempt - 1));
}

export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly perPolicy = new Map<number, number>();
  private readonly stop = new AbortController();

  constructor(private readonly deps: WorkerDeps) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.deps.config.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Looks for due rows now (new rows were written, or a slot came free). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.tick()
      .catch((err: unknown) => this.deps.logger.warn({ err: errorText(err) }, 'webhook delivery poll failed'))
      .finally(() => {
        this.running = false;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      });
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.stop.abort();
    // Interrupted rows stay `running` and are taken over after their lease: nothing is lost.
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private async tick(): Promise<void> {
    const { config } = this.deps;
    const free = config.concurrency - this.inFlight.size;
    if (free <= 0) return;
    const now = Date.now();
    const due = await this.deps.deliveries.due(now, free * 4);
    let started = 0;
    for (const row of due) {
      if (started >= free || this.stopped) break;
      if (this.inFlight.has(row.id) || (this.perPolicy.get(row.policyId) ?? 0) >= config.perPolicyConcurrency) continue;
      if (!(await this.deps.deliveries.claim(row.id, this.deps.node, now, config.leaseSeconds * 1000))) continue;
      started++;
      this.perPolicy.set(row.policyId, (this.perPolicy.get(row.policyId) ?? 0) + 1);
      const run = this.attempt(row, row.attempts + 1).finally(() => {
        this.inFlight.delete(row.id);
        const left = (this.perPolicy.get(row.policyId) ?? 1) - 1;
        if (left > 0) this.perPolicy.set(row.policyId, left);
        else this.perPolicy.delete(row.policyId);
        this.wake();
      });
      this.inFlight.set(row.id, run);
    }
  }

  private async attempt(row: Delivery, attempt: number): Promise<void> {
    const { config, logger } = this.deps;
    const started = performance.now();
    let ok = false;
    let responseCode: number | undefined;
    let error: string | undefined;
    try {
      const policy = await this.deps.policies.byId(row.policyId);
      if (!policy) return; // deleted meanwhile: its rows go with it
      const kind = this.deps.targets.get(row.target.type);
      if (!kind) throw new Error(`no webhook target kind "${row.target.type}" on this node`);
      const secret = this.deps.box.open(policy.secretSealed, SECRET_CONTEXT);
      const target: WebhookTarget = {
        type: row.target.type,
        address: row.target.address,
        authHeader: row.target.authHeaderSealed ? this.deps.box.open(row.target.authHeaderSealed, AUTH_CONTEXT) : undefined,
        skipCertVerify: row.target.skipCertVerify,
        caCertPem: row.target.caCertPem,
        payloadFormat: row.target.payloadFormat,
      };
      const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(config.timeoutMs)]);
      const result = await kind.deliver({
        target,
        event: { ...row.event, deliveryId: row.id },
        sign: (body) => signingHeaders(secret, row.id, body),
        timeoutMs: config.timeoutMs,
        signal,
      });
      responseCode = result.statusCode;
      ok = responseCode >= 200 && responseCode < 300;
      if (!ok) error = `receiver answered ${responseCode}`;
    } catch (err) {
      error = errorText(err);
    }
    if (this.stopped && !ok) return; // shutting down: the lease hands the row to the next node
    const retryAt = ok || attempt >= config.maxAttempts ? undefined : Date.now() + backoff(config, attempt);
    const durationMs = performance.now() - started;
    await this.deps.deliveries.finish(row.id, this.deps.node, attempt, { ok, responseCode, durationMs, error }, retryAt);
    // The address may carry a token in its path: log the delivery id and policy, not the address.
    if (ok) logger.debug({ delivery: row.id, policy: row.policyId, attempt, status: responseCode }, 'webhook delivered');
    else logger.info({ delivery: row.id, policy: row.policyId, attempt, status: responseCode, error, retry: retryAt !== undefined }, 'webhook delivery failed');
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.slice(0, 500);
}
