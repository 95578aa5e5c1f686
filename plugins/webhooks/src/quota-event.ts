import { defineEventType } from '@wharf/sdk';

/**
 * `quota.warning` and `quota.exceeded`, recorded by the quotas plugin (partition
 * `project:<name>`). Declared here by name, as this plugin does not depend on that one.
 */
export interface QuotaEventData {
  readonly project: string;
  readonly repository: string;
  readonly digest: string;
  readonly resource: 'storage' | 'count' | 'repositoryStorage';
  readonly used: number;
  readonly limit: number;
  readonly adding: number;
  readonly message: string;
}

export const quotaWarning = defineEventType<QuotaEventData>('quota.warning');
export const quotaExceeded = defineEventType<QuotaEventData>('quota.exceeded');
