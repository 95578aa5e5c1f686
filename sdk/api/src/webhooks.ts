import { createServiceRef } from './services.js';

/**
 * Webhook target kinds: the seam through which a plugin adds a kind of webhook receiver (Teams,
 * Matrix, a message queue) next to the webhooks plugin's own `http` and `slack`. The webhooks
 * plugin owns policies, the durable fan-out, signing, retries and history; a target kind only
 * turns one event into one delivery to its kind of receiver.
 *
 * A target plugin declares `dependsOn: ['webhooks']` and registers its kind in its init:
 * `ctx.registerInit({ deps: { targets: webhookTargetsServiceRef }, init: ({ targets }) => targets.register(kind) })`.
 * @see docs/architecture/17-webhooks.md
 * @see docs/guides/writing-a-plugin.md
 * @since 0.2.0
 */

/**
 * One target of a policy as stored, with its auth header decrypted for the delivery only.
 * @since 0.2.0
 */
export interface WebhookTarget {
  /** The target kind, e.g. `http`, `slack`, `teams`. */
  readonly type: string;
  /** Where to deliver: a URL for HTTP-based kinds; whatever the kind defines otherwise. */
  readonly address: string;
  /** Value of the `Authorization` header, when the policy set one. Never log it. */
  readonly authHeader: string | undefined;
  /** Accept any TLS certificate of the receiver (test setups only). */
  readonly skipCertVerify: boolean;
  /** Extra CA certificates (PEM) to trust for the receiver. */
  readonly caCertPem: string | undefined;
  /** `Default` (Harbor's JSON) or `CloudEvents` (CloudEvents 1.0 JSON). Kinds may ignore it. */
  readonly payloadFormat: 'Default' | 'CloudEvents';
}

/**
 * Harbor's default webhook payload (`type`, `occur_at`, `operator`, `event_data`), with the
 * field names of Harbor's, so receivers written for Harbor work unchanged.
 * @since 0.2.0
 */
export interface WebhookPayload {
  /** Harbor's event type name, e.g. `PUSH_ARTIFACT`. */
  readonly type: string;
  /** Unix seconds. */
  readonly occur_at: number;
  readonly operator: string;
  readonly event_data: Readonly<Record<string, unknown>>;
}

/**
 * One event as a target kind receives it.
 * @since 0.2.0
 */
export interface WebhookEvent {
  /**
   * The delivery id: the same on every retry of this delivery, different for each target.
   * Sent as the `Webhook-Id` header; receivers deduplicate on it.
   */
  readonly deliveryId: string;
  /** Harbor's payload. */
  readonly payload: WebhookPayload;
  /** The CloudEvents `type`, e.g. `harbor.artifact.pushed`. */
  readonly cloudEventType: string;
  /** The CloudEvents `source`, `/projects/<name>/webhook/policies/<id>`. */
  readonly source: string;
  /** The request that caused the event, when there was one (CloudEvents `requestid`). */
  readonly requestId: string | undefined;
  /** The policy's name, e.g. for a chat message's title. */
  readonly policyName: string;
}

/**
 * Everything a target kind needs for one delivery attempt.
 * @since 0.2.0
 */
export interface WebhookDeliveryRequest {
  readonly target: WebhookTarget;
  readonly event: WebhookEvent;
  /**
   * The signing headers for a body: `Webhook-Id`, `Webhook-Timestamp` and
   * `Webhook-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>">` with the policy's
   * secret. HTTP-based kinds send them with exactly the body they signed.
   */
  sign(body: string): Readonly<Record<string, string>>;
  /** Give up after this long; the plugin also aborts `signal` then. */
  readonly timeoutMs: number;
  /** Aborted at the timeout and when the node shuts down. */
  readonly signal: AbortSignal;
}

/**
 * What one attempt achieved. A status outside 200-299 counts as a failure and is retried; so
 * is a throw (refused connection, timeout, DNS), whose message becomes the delivery's last error.
 * @since 0.2.0
 */
export interface WebhookDeliveryResult {
  /** The receiver's HTTP status, when there is one. Kinds without one return 200 on success. */
  readonly statusCode: number;
}

/**
 * A kind of webhook target.
 * @since 0.2.0
 */
export interface WebhookTargetKind {
  /** Kebab-case name used in policies' `targets[].type`, unique per registry. */
  readonly type: string;
  readonly description: string;
  /**
   * Checks a target of this kind when a policy is created or updated: a message saying what is
   * wrong (the API answers 400 with it), or `undefined` when it is fine.
   */
  validate?(target: WebhookTarget): string | undefined;
  /** Delivers one event. Must honour `signal`. */
  deliver(request: WebhookDeliveryRequest): Promise<WebhookDeliveryResult>;
}

/**
 * Where target kinds are registered, provided by the webhooks plugin.
 * @since 0.2.0
 */
export interface WebhookTargetRegistry {
  /** Adds a kind; in a plugin's init. A second kind with the same `type` is refused (throws). */
  register(kind: WebhookTargetKind): void;
  /** The kind of that type, if registered. */
  get(type: string): WebhookTargetKind | undefined;
  /** The registered types, sorted. */
  types(): string[];
}

/**
 * The webhooks plugin's target registry (`extensions: { webhooks: {} }`).
 * @since 0.2.0
 */
export const webhookTargetsServiceRef = createServiceRef<WebhookTargetRegistry>({ id: 'webhooks.targets' });
