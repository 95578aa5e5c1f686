import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';

/**
 * Replication target adapters: how Wharf talks to another registry. Adapters are contributed by
 * plugins through the `replication.target` hook map, keyed by target type (`oci`, ...).
 * The contract is a first draft; the replication engine will settle it.
 * @since 0.1.0
 */

/** How to reach a registry endpoint. */
export interface ReplicationEndpoint {
  readonly type: string;
  readonly url: string;
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly insecure?: boolean;
}

/** A manifest as read from or written to a target. */
export interface RemoteManifest {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly payload: Buffer;
}

/** One connected target registry. */
export interface ReplicationTarget {
  ping(): Promise<void>;
  listRepositories(): AsyncIterable<string>;
  listTags(repository: string): Promise<string[]>;
  getManifest(repository: string, reference: string): Promise<RemoteManifest | undefined>;
  putManifest(repository: string, reference: string, manifest: RemoteManifest): Promise<void>;
  hasBlob(repository: string, digest: Digest): Promise<boolean>;
  readBlob(repository: string, digest: Digest): Promise<Readable>;
  writeBlob(repository: string, digest: Digest, size: number, data: Readable): Promise<void>;
  deleteManifest(repository: string, digest: Digest): Promise<void>;
  close?(): Promise<void>;
}
