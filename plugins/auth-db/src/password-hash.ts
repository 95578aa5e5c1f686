/**
 * Password hashes: the SDK's scrypt secret hashes (`scrypt$N$r$p$salt$hash`), under the names
 * this plugin has always used.
 */
export {
  DEFAULT_SCRYPT,
  hashSecret as hashPassword,
  isSecretHash as isPasswordHash,
  MalformedHashError,
  verifyNothing,
  verifySecret as verifyPassword,
  type ScryptParams,
} from '@wharf/sdk';
