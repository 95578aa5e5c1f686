import { exportName, yamlSection, type KindTemplate, type ScaffoldVars } from './common.js';

/** `storage`: a driver keeping blobs and uploads as files under one directory, with node:fs. */

const index = (v: ScaffoldVars): string => `import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BlobNotFoundError,
  coreServices,
  definePlugin,
  isUploadId,
  Type,
  UploadNotFoundError,
  type BlobStat,
  type ByteRange,
  type Digest,
  type Static,
  type StorageDriver,
  type UploadState,
} from '@wharf/sdk';

export const configSchema = Type.Object(
  {
    /** Where blobs and uploads live; relative paths are resolved against the data directory. */
    root: Type.String({ default: '${v.name}-storage', minLength: 1 }),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof configSchema>;

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/**
 * Blobs in \`<root>/blobs/<algorithm>/<hex>\`, each upload in one file \`<root>/uploads/<id>\`.
 * A commit is a rename, so a blob appears whole or not at all. Not fsync'ed: add that (and
 * tests for it) before trusting it with data you cannot push again.
 */
export class DirectoryDriver implements StorageDriver {
  readonly name = '${v.name}';

  constructor(readonly root: string) {}

  private blobPath(digest: Digest): string {
    if (!DIGEST.test(digest)) throw new TypeError(\`not a valid digest: \${JSON.stringify(digest)}\`);
    const [algorithm, hex] = digest.split(':') as [string, string];
    return path.join(this.root, 'blobs', algorithm, hex);
  }

  private uploadPath(id: string): string {
    if (!isUploadId(id)) throw new TypeError(\`not a valid upload id: \${JSON.stringify(id)}\`);
    return path.join(this.root, 'uploads', id);
  }

  /** The upload's file, or UploadNotFoundError. */
  private async existingUpload(id: string): Promise<string> {
    const file = this.uploadPath(id);
    try {
      await stat(file);
    } catch (err) {
      throw isMissing(err) ? new UploadNotFoundError(id) : err;
    }
    return file;
  }

  async healthCheck(): Promise<void> {
    await mkdir(path.join(this.root, 'blobs'), { recursive: true });
    await mkdir(path.join(this.root, 'uploads'), { recursive: true });
  }

  async stat(digest: Digest): Promise<BlobStat | undefined> {
    try {
      return { size: (await stat(this.blobPath(digest))).size };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async read(digest: Digest, range?: ByteRange): Promise<Readable> {
    let handle;
    try {
      handle = await open(this.blobPath(digest), 'r');
    } catch (err) {
      throw isMissing(err) ? new BlobNotFoundError(digest) : err;
    }
    // The stream owns the open handle, so a blob deleted meanwhile still reads whole.
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async delete(digests: readonly Digest[]): Promise<void> {
    await Promise.all(digests.map((digest) => rm(this.blobPath(digest), { force: true })));
  }

  async *list(): AsyncIterable<BlobStat & { digest: Digest }> {
    for (const algorithm of ['sha256', 'sha512']) {
      let names: string[];
      try {
        names = await readdir(path.join(this.root, 'blobs', algorithm));
      } catch (err) {
        if (isMissing(err)) continue;
        throw err;
      }
      for (const hex of names) {
        const digest = \`\${algorithm}:\${hex}\` as Digest;
        const found = await this.stat(digest);
        if (found) yield { digest, size: found.size };
      }
    }
  }

  async createUpload(id: string): Promise<UploadState> {
    const file = this.uploadPath(id);
    await mkdir(path.dirname(file), { recursive: true });
    await (await open(file, 'w')).close();
    return { size: 0 };
  }

  async append(id: string, state: UploadState, data: Readable): Promise<UploadState> {
    const file = await this.existingUpload(id);
    // Bytes past the recorded size come from an append the kernel did not record: drop them.
    await truncate(file, state.size);
    try {
      await pipeline(data, createWriteStream(file, { flags: 'r+', start: state.size }));
    } catch (err) {
      // Back to the state before the call; the kernel retries from there.
      await truncate(file, state.size).catch(() => undefined);
      throw err;
    }
    return { size: (await stat(file)).size };
  }

  async uploadSize(id: string, _state: UploadState): Promise<number> {
    return (await stat(await this.existingUpload(id))).size;
  }

  async readUpload(id: string, state: UploadState): Promise<Readable> {
    const file = await this.existingUpload(id);
    if (state.size === 0) return Readable.from([]);
    return createReadStream(file, { start: 0, end: state.size - 1 });
  }

  async commit(id: string, state: UploadState, digest: Digest): Promise<void> {
    const target = this.blobPath(digest);
    const file = await this.existingUpload(id);
    await truncate(file, state.size);
    await mkdir(path.dirname(target), { recursive: true });
    // Atomic: readers see the old file or the new one, never a partial blob. Committing an
    // existing digest replaces it with the same bytes.
    await rename(file, target);
  }

  async abort(id: string, _state: UploadState): Promise<void> {
    await rm(this.uploadPath(id), { force: true });
  }
}

export const ${exportName(v)} = definePlugin({
  id: '${v.name}',
  kind: 'storage',
  version: '0.1.0',
  kernel: '${v.kernelRange}',
  description: 'Blobs and uploads as files under one directory',
  configSchema,
  register(ctx) {
    // Declarations only: the directory is created by the driver's health check at boot.
    const root = path.resolve(ctx.settings.dataDir, ctx.config.root);
    ctx.provide(coreServices.storage, { factory: () => new DirectoryDriver(root) });
  },
});

export default ${exportName(v)};
`;

const test = (v: ScaffoldVars): string => `import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { coreServices } from '@wharf/sdk';
import { runStorageConformance, verifyPlugin } from '@wharf/sdk-testing';
import { DirectoryDriver } from './index.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('${v.packageName}', () => {
  it('loads through the production loader and provides the storage service', async () => {
    const v = await verifyPlugin('${v.name}', { kind: 'storage', cwd: packageDir });
    assert.equal(v.id, '${v.name}');
    assert.equal(v.packageName, '${v.packageName}');
    assert.deepEqual(v.services, [coreServices.storage.id]);
    assert.deepEqual(v.config, { root: '${v.name}-storage' });
  });

  it('refuses a bad config section at its key path', async () => {
    await assert.rejects(verifyPlugin('${v.name}', { kind: 'storage', cwd: packageDir, config: { root: 7 } }), /storage\\.${v.name}\\.root: must be string/);
  });
});

// The suite every storage driver must pass. The large-blob test streams 64 MiB instead of the
// default 1 GiB to keep \`npm test\` quick; run it once with WHARF_CONFORMANCE_LARGE_BYTES=1GiB.
const root = await mkdtemp(path.join(tmpdir(), '${v.packageName}-'));
runStorageConformance({
  name: '${v.name} driver conformance',
  create: async () => {
    const driver = new DirectoryDriver(root);
    await driver.healthCheck();
    return driver;
  },
  largeBlobBytes: 64 * 1024 * 1024,
  leftovers: async () =>
    (await readdir(root, { recursive: true, withFileTypes: true }))
      .filter((entry) => !entry.isDirectory())
      .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name))),
});
after(() => rm(root, { recursive: true, force: true }));
`;

const readmeConfig = (v: ScaffoldVars): string => `\`\`\`yaml
${yamlSection('storage', v.name, `root: /srv/wharf/blobs   # default: ${v.name}-storage, relative to dataDir`)}
\`\`\`

\`root\` holds \`blobs/<algorithm>/<hex>\` and \`uploads/<id>\`. A storage plugin replaces the
default \`fs\` storage: one storage plugin serves a deployment.`;

export const storageTemplate: KindTemplate = {
  index,
  test,
  readmeConfig,
  summary: 'a storage driver that keeps blobs as files under one directory (node:fs).',
};
