import type { SecretService } from '@wharf/sdk';

/**
 * Encryption at rest of the policies' signing secrets and auth headers, through the deployment's
 * secret service (`coreServices.secrets`: AES-256-GCM with the key every node shares, `secretKey`
 * or the data directory's key file). Each kind of value has its own context, so a sealed auth
 * header copied into the secret column does not open there.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export function webhookSecretBox(secrets: SecretService): SecretBox {
  const scoped = (context: string) => `webhooks:${context}`;
  return {
    seal: (plaintext, context) => secrets.encrypt(plaintext, scoped(context)),
    open: (sealed, context) => secrets.decrypt(sealed, scoped(context)),
  };
}
