import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '@wharf/sdk';
import { isRepositoryName, isTag, parseReference, requireDigest } from './names.js';

describe('repository names', () => {
  it('accepts the spec grammar', () => {
    for (const name of ['a', 'library/ubuntu', 'a-b/c_d/e__f/g.h', 'a---b', '0/1/2', 'a'.repeat(255)]) assert.ok(isRepositoryName(name), name);
  });
  it('refuses everything else', () => {
    for (const name of ['', 'A', 'a/', '/a', 'a//b', '..', '../a', 'a/..', 'a..b', 'a___b', '-a', 'a-', 'a b', 'a%2f', 'a'.repeat(256), 'a\0b']) {
      assert.ok(!isRepositoryName(name), JSON.stringify(name));
    }
  });
});

describe('tags and references', () => {
  it('follows the tag grammar', () => {
    for (const tag of ['latest', 'v1.0', '_x', 'A-b_c.d', 'a'.repeat(128)]) assert.ok(isTag(tag), tag);
    for (const tag of ['', '.a', '-a', 'a/b', 'a:b', 'a'.repeat(129)]) assert.ok(!isTag(tag), tag);
  });
  it('parses digests and tags and reports bad ones in OCI terms', () => {
    assert.deepEqual(parseReference('v1'), { kind: 'tag', tag: 'v1' });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseReference(digest), { kind: 'digest', digest });
    assert.throws(() => parseReference('md5:abc'), (e: RegistryError) => e.code === 'DIGEST_INVALID');
    assert.throws(() => parseReference(`sha256:${'A'.repeat(64)}`), (e: RegistryError) => e.code === 'DIGEST_INVALID');
    assert.throws(() => parseReference('-bad'), (e: RegistryError) => e.code === 'TAG_INVALID' && e.status === 400);
    assert.throws(() => requireDigest(undefined), (e: RegistryError) => e.code === 'DIGEST_INVALID');
    assert.equal(requireDigest(`sha512:${'b'.repeat(128)}`), `sha512:${'b'.repeat(128)}`);
  });
});
