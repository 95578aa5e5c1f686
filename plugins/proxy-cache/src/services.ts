import { createServiceRef } from '@wharf/sdk';
import type { ProxySettingsStore } from './store.js';

/** The plugin's settings store as a service (its durable consumer and its init share it). */
export interface ProxyCacheService {
  readonly settings: ProxySettingsStore;
}

export const proxyCacheServiceRef = createServiceRef<ProxyCacheService>({ id: 'proxy-cache.settings' });
