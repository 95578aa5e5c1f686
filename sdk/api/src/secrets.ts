/**
 * The secret service: encrypts small secrets (passwords and tokens of remote registries,
 * webhook signing secrets) with the deployment's key before a plugin stores them, and decrypts
 * them just before use. AES-256-GCM, a fresh IV per value, stored as `v1:<iv>:<tag>:<ciphertext>`
 * (base64). The key is `secretKey` in config, else a key file in the data directory created once
 * with mode 0600 (`replication-secret.key`, its historical name); the kernel opens it at boot.
 *
 * Provided by the kernel as `coreServices.secrets`.
 * @see docs/architecture/03-services.md
 * @since 0.2.0
 */
export interface SecretService {
  /**
   * Encrypts `plaintext`. `context` (e.g. `webhooks.target.secret`) is authenticated with the
   * value and must be given again, identical, to decrypt: a value copied into another kind of
   * column does not decrypt there. Choose one per kind of secret, prefixed with your plugin id.
   */
  encrypt(plaintext: string, context?: string): string;
  /**
   * Decrypts a value from {@link SecretService.encrypt}. Throws an `Error` named
   * `SecretBoxError` (with a `code`: `MALFORMED`, `UNSUPPORTED_VERSION`, `DECRYPT_FAILED`) on a
   * wrong key, a wrong context or an altered value; its message never holds the value or key.
   */
  decrypt(sealed: string, context?: string): string;
}
