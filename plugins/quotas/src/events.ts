import { defineEventType, type EventActor, type EventRequest } from '@wharf/sdk';

/** Data of `quota.warning` and `quota.exceeded`. */
export interface QuotaEventData {
  readonly project: string;
  /** The repository whose push crossed the threshold or was refused. */
  readonly repository: string;
  /** The blob or manifest being pushed. */
  readonly digest: string;
  /** Which quota: `storage` (bytes), `count` (artifacts) or `repositoryStorage` (bytes of the repository). */
  readonly resource: 'storage' | 'count' | 'repositoryStorage';
  readonly used: number;
  readonly limit: number;
  /** What the push adds (bytes or artifacts). */
  readonly adding: number;
  /** The message the client got (exceeded) or a description (warning). */
  readonly message: string;
}

/**
 * Durable events of the quotas plugin, partition `project:<name>`: a push brought usage to the
 * warning threshold, or a push was refused. The webhooks plugin delivers them as Harbor's
 * QUOTA_WARNING and QUOTA_EXCEED.
 */
export const quotaEvents = Object.freeze({
  warning: defineEventType<QuotaEventData>('quota.warning'),
  exceeded: defineEventType<QuotaEventData>('quota.exceeded'),
});

export interface EventWho {
  readonly actor?: EventActor;
  readonly request?: EventRequest;
}
