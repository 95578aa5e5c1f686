import { createHash } from 'node:crypto';
import { pino } from 'pino';
import type { Digest } from '@wharf/sdk';
import type { DatabaseConfig, ManifestInput, MetadataStore } from './types.js';
import { createMetadataStore } from './index.js';

/** Small builders shared by the metadata store tests. */

export const silentLogger = pino({ level: 'silent' });

/** A store on `config`, logging nowhere. */
export function openStore(config: DatabaseConfig): MetadataStore {
  return createMetadataStore(config, silentLogger);
}

/** The digest of `content` with the given algorithm. */
export function digestOf(content: string | Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(content).digest('hex')}`;
}

/** A manifest input whose payload is `body` (unique per test by its text); everything else optional. */
export function manifestInput(repository: string, body: string, extra: Partial<ManifestInput> = {}): ManifestInput {
  const payload = extra.payload ?? Buffer.from(JSON.stringify({ schemaVersion: 2, body }));
  return {
    repository,
    digest: digestOf(payload),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: undefined,
    payload,
    subject: undefined,
    annotations: undefined,
    blobRefs: [],
    manifestRefs: [],
    tag: undefined,
    ...extra,
  };
}
