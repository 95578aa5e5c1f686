import { ReplicationTargetError } from '@wharf/sdk';

/**
 * Repository names and references as the distribution spec defines them. They become URL path
 * segments, so anything else (`..`, `?`, `%`) is refused before a request is made.
 */
const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function checkRepository(name: string): string {
  if (name.length > 255 || !NAME.test(name)) throw new ReplicationTargetError('INVALID', `"${name.slice(0, 100)}" is not a repository name`, { retryable: false });
  return name;
}

export function isDigestReference(reference: string): boolean {
  return DIGEST.test(reference);
}

export function checkReference(reference: string): string {
  if (!TAG.test(reference) && !(reference.length <= 256 && DIGEST.test(reference))) {
    throw new ReplicationTargetError('INVALID', `"${reference.slice(0, 100)}" is neither a tag nor a digest`, { retryable: false });
  }
  return reference;
}
