import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { UploadHashes } from './upload-hashes.js';

describe('UploadHashes', () => {
  it('continues a hash only at the offset it stopped at', () => {
    const hashes = new UploadHashes();
    const h = hashes.continueAt('u1', 0)!;
    h.update('abc');
    hashes.save('u1', h, 3);
    assert.equal(hashes.continueAt('u1', 5), undefined);
    assert.equal(hashes.digestIfComplete('u1', 3), undefined, 'a mismatched continue drops the entry');
    const again = hashes.continueAt('u1', 0)!;
    again.update('abcdef');
    hashes.save('u1', again, 6);
    assert.equal(hashes.digestIfComplete('u1', 6), `sha256:${createHash('sha256').update('abcdef').digest('hex')}`);
  });

  it('stays bounded, dropping the oldest upload first', () => {
    const hashes = new UploadHashes(2);
    for (const id of ['a', 'b', 'c']) hashes.save(id, createHash('sha256'), 0);
    assert.equal(hashes.digestIfComplete('a', 0), undefined);
    assert.ok(hashes.digestIfComplete('c', 0));
  });
});
