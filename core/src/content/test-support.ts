import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Digest, KernelHooks, StorageDriver } from '@wharf/sdk';
import { createHooks } from '../hooks/index.js';
import { createKnex, KnexMetadataStore } from '../metadata/index.js';
import { silentLogger } from '../metadata/test-support.js';
import type { DatabaseConfig, MetadataStore } from '../metadata/types.js';
import { createContentServices, type ContentServices } from './index.js';
import { createEventsRuntime } from '../events/events-runtime.js';

/** A real metadata store, fs storage in a temp dir and the kernel's hooks, for the content tests. */

export interface ContentFixture extends ContentServices {
  readonly metadata: MetadataStore;
  readonly storage: StorageDriver;
  readonly hooks: KernelHooks;
  readonly root: string;
  /** Files left below `uploads/` in storage. */
  uploadFiles(): Promise<string[]>;
  close(): Promise<void>;
}

export interface ContentFixtureOptions {
  readonly deleteEnabled?: boolean;
  /** The metadata store's clock (epoch ms), for tests of time windows. */
  readonly now?: () => number;
}

export async function openContentFixture(config: DatabaseConfig, options: ContentFixtureOptions = {}): Promise<ContentFixture> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'wharf-content-'));
  const storage = await fsStorage(root);
  await storage.healthCheck();
  const metadata = new KnexMetadataStore(createKnex(config, silentLogger), silentLogger, options.now ? { now: options.now } : {});
  await metadata.migrate();
  const hooks = createHooks({ logger: silentLogger });
  const services = createContentServices({
    metadata,
    storage,
    hooks,
    logger: silentLogger,
    registry: { deleteEnabled: options.deleteEnabled ?? true, maxManifestBytes: 4 * 1024 * 1024, uploadLeaseMs: 30_000 },
    // The kernel's recorder with no consumer subscribed: records nothing, as in a bare kernel.
    recorder: createEventsRuntime({
      knex: () => metadata.knex,
      settings: { pollIntervalMs: 500, leaseSeconds: 30, maxAttempts: 3, retentionHours: 1, deadRetentionHours: 1, pullBatchSize: 10, pullFlushMs: 0 },
      logger: silentLogger,
    }),
  });
  return {
    ...services,
    metadata,
    storage,
    hooks,
    root,
    uploadFiles: async () => (await readdir(path.join(root, 'uploads'), { recursive: true })).map(String),
    close: async () => {
      await metadata.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * The real fs storage plugin's driver, loaded at run time: the kernel package builds before the
 * plugins and depends on none of them, so no type import from a plugin may appear here.
 */
async function fsStorage(root: string): Promise<StorageDriver> {
  const specifier = '@wharf/plugin-storage-fs';
  const { FsStorageDriver } = (await import(specifier)) as { FsStorageDriver: new (options: { root: string; fsync: boolean }) => StorageDriver };
  return new FsStorageDriver({ root, fsync: false });
}

export function sha256(content: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** A blob's bytes, digest and size, with a fresh stream of them. */
export function blob(text: string): { bytes: Buffer; digest: Digest; size: number; data: () => Readable } {
  const bytes = Buffer.from(text);
  return { bytes, digest: sha256(bytes), size: bytes.length, data: () => Readable.from([bytes]) };
}

/** An OCI image manifest over a config and layers (descriptors only; the blobs may not exist). */
export function imageManifest(config: { digest: Digest; size: number }, layers: ReadonlyArray<{ digest: Digest; size: number }>, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
      ...extra,
    }),
  );
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Everything a hook received, in order. */
export function record<E>(hook: { tapPromise(name: string, fn: (event: E) => Promise<void>): void }): E[] {
  const seen: E[] = [];
  hook.tapPromise('test', async (event) => {
    seen.push(event);
  });
  return seen;
}
