import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { OCI_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST, tinyImage } from './index.js';

/** The fixture's bytes are constants: these digests must never change. */

const PINNED = {
  config: { digest: 'sha256:cb8e59e27a9f50ae274cc20cdf1242a543b7b507cc60f433f9b562a9ee1122bb', size: 163 },
  layer: { digest: 'sha256:b545a618d26a1b13be7b4e970c0bf46b31ea735c7e31de9ab8f7bfe7b17c0ca7', size: 2048 },
  manifest: { digest: 'sha256:da0344549643e1a171fa1b11512ee9349dc67b84adc3116138d27ac181f890bd', size: 397 },
};

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('tinyImage', () => {
  it('has the pinned digests and sizes, and each digest is that of its bytes', () => {
    const image = tinyImage();
    for (const part of ['config', 'layer', 'manifest'] as const) {
      assert.deepEqual({ digest: image[part].digest, size: image[part].size }, PINNED[part], part);
      assert.equal(sha256(image[part].bytes), image[part].digest);
      assert.equal(image[part].bytes.length, image[part].size);
    }
    assert.deepEqual(image.layers, [image.layer]);
  });

  it('returns the same bytes on every call, in fresh buffers', () => {
    const a = tinyImage();
    const b = tinyImage();
    assert.ok(a.manifest.bytes.equals(b.manifest.bytes));
    assert.notEqual(a.manifest.bytes, b.manifest.bytes);
    a.layer.bytes.fill(0);
    assert.equal(sha256(tinyImage().layer.bytes), PINNED.layer.digest);
  });

  it('is a valid OCI image: the manifest names the config and layer, the config the diff id', () => {
    const image = tinyImage();
    const manifest = JSON.parse(image.manifest.bytes.toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(manifest, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: image.config.digest, size: image.config.size },
      layers: [{ mediaType: OCI_LAYER_TAR, digest: image.layer.digest, size: image.layer.size }],
    });
    const config = JSON.parse(image.config.bytes.toString('utf8')) as { os: string; rootfs: { diff_ids: string[] } };
    assert.equal(config.os, 'linux');
    assert.deepEqual(config.rootfs.diff_ids, [image.layer.digest]);
  });

  it('holds hello.txt in a ustar layer with a correct header checksum', () => {
    const tar = tinyImage().layer.bytes;
    const header = tar.subarray(0, 512);
    assert.equal(header.toString('ascii', 0, 9), 'hello.txt');
    assert.equal(header.toString('ascii', 257, 262), 'ustar');
    const size = parseInt(header.toString('ascii', 124, 135), 8);
    assert.equal(tar.toString('utf8', 512, 512 + size), 'hello from wharf\n');
    const stored = parseInt(header.toString('ascii', 148, 154), 8);
    const summed = [...header].reduce((acc, byte, i) => acc + (i >= 148 && i < 156 ? 32 : byte), 0);
    assert.equal(stored, summed);
  });

  it('makes another stable image from another text', () => {
    const other = tinyImage({ text: 'another\n' });
    assert.notEqual(other.manifest.digest, PINNED.manifest.digest);
    assert.equal(tinyImage({ text: 'another\n' }).manifest.digest, other.manifest.digest);
  });
});
