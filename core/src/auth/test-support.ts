import type { TokenSettings } from '../config/types.js';

/** Token settings with the schema's defaults, for the auth unit tests. */
export function tokenSettings(overrides: Partial<TokenSettings> = {}): TokenSettings {
  return {
    enabled: true,
    service: 'wharf',
    issuer: 'wharf-token-issuer',
    lifetimeSeconds: 300,
    algorithm: 'RS256',
    keys: { verificationKeyFiles: [] },
    leewaySeconds: 30,
    refreshLifetimeSeconds: 604800,
    credentialCacheSeconds: 30,
    credentialCacheSize: 1000,
    activeCacheSeconds: 5,
    loginConcurrencyPerUser: 4,
    loginConcurrencyPerAddress: 16,
    failedLoginMinMs: 250,
    maxScopesPerRequest: 50,
    ...overrides,
  };
}
