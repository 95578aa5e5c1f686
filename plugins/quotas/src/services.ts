import { createServiceRef } from '@wharf/sdk';
import type { QuotaService } from './quota-service.js';
import type { QuotaStore } from './store.js';

/** The quotas plugin's store and service, for its CLI and for plugins that read usage. */
export interface QuotasService {
  readonly store: QuotaStore;
  readonly service: QuotaService;
}

export const quotasServiceRef = createServiceRef<QuotasService>({ id: 'quotas.quotas' });
