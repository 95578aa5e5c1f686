import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDockerHub, upstreamRepository } from './upstreams.js';

describe('upstream repository names', () => {
  it('puts the path prefix before the path', () => {
    assert.equal(upstreamRepository('https://ghcr.io', 'acme/', 'tools/cli'), 'acme/tools/cli');
    assert.equal(upstreamRepository('https://quay.io', '', 'coreos/etcd'), 'coreos/etcd');
  });

  it("applies Docker Hub's library/ rule to one-component names only, on Hub's hosts only", () => {
    for (const url of ['https://docker.io', 'https://registry-1.docker.io', 'https://index.docker.io', 'https://REGISTRY-1.docker.io/']) {
      assert.ok(isDockerHub(url), url);
      assert.equal(upstreamRepository(url, '', 'nginx'), 'library/nginx');
      assert.equal(upstreamRepository(url, '', 'bitnami/nginx'), 'bitnami/nginx');
      assert.equal(upstreamRepository(url, 'library/', 'nginx'), 'library/nginx');
    }
    assert.equal(upstreamRepository('https://mirror.example.com', '', 'nginx'), 'nginx');
    assert.equal(isDockerHub('not a url'), false);
  });
});
