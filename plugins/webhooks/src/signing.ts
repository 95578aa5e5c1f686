import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Delivery signatures, in the shape of Stripe's and Standard Webhooks': the receiver recomputes
 * HMAC-SHA256 over `<timestamp>.<body>` with the policy's secret and compares, and rejects old
 * timestamps to stop replays.
 */

export const SIGNATURE_HEADER = 'Webhook-Signature';
export const ID_HEADER = 'Webhook-Id';
export const TIMESTAMP_HEADER = 'Webhook-Timestamp';

/** A new signing secret, shown once when a policy is created. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function signature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The headers of one signed attempt. */
export function signingHeaders(secret: string, deliveryId: string, body: string, now = Date.now()): Record<string, string> {
  const t = Math.floor(now / 1000);
  return { [ID_HEADER]: deliveryId, [TIMESTAMP_HEADER]: String(t), [SIGNATURE_HEADER]: `t=${t},v1=${signature(secret, t, body)}` };
}

/**
 * What a receiver does: true when `header` carries a valid signature of `body` no older than
 * `toleranceSeconds`. Exported for receivers written in TypeScript and for the tests.
 */
export function verifySignature(secret: string, header: string | undefined, body: string, toleranceSeconds = 300, now = Date.now()): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((p) => { const i = p.indexOf('='); return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const; }));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds || !/^[0-9a-f]{64}$/.test(v1)) return false;
  return timingSafeEqual(Buffer.from(v1, 'hex'), Buffer.from(signature(secret, t, body), 'hex'));
}
