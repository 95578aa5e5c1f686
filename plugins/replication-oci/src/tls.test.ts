import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { isReplicationTargetError, type ReplicationEndpoint } from '@wharf/sdk';
import { OciTarget } from './index.js';
import { startDockerRegistry, type DockerRegistryHandle } from './test-support/docker-registry.js';
import { lendingBlob } from './test-support/lending-source.js';

// An endpoint's TLS options against distribution 2.8 serving HTTPS with a self-signed
// certificate: refused by default, accepted with the certificate as the endpoint's CA, and
// accepted without verification when the endpoint is marked insecure; for the API calls (undici)
// and for the blob uploads and downloads (Node's https) alike.

const run = promisify(execFile);

/** Reads a blob to its end (the reader checks its digest); its byte count. */
async function readAll(reader: { stream: AsyncIterable<unknown> }): Promise<number> {
  let n = 0;
  for await (const chunk of reader.stream) n += (chunk as Buffer).length;
  return n;
}

describe('oci adapter TLS options (distribution 2.8 over HTTPS, self-signed)', () => {
  let dir: string;
  let registry: DockerRegistryHandle;
  let ca: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wharf-oci-tls-'));
    const certificate = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certificate, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    ca = await readFile(certificate, 'utf8');
    registry = await startDockerRegistry({ tls: { certificate, key } });
  });

  after(async () => {
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const endpoint = (extra: Partial<ReplicationEndpoint>): ReplicationEndpoint => ({ name: 'tls', type: 'oci', url: registry.url, ...extra });

  it('refuses the unknown certificate by default, as unreachable with the TLS reason', async () => {
    const target = new OciTarget(endpoint({}));
    try {
      await assert.rejects(target.ping(), (err: unknown) => {
        assert.ok(isReplicationTargetError(err), String(err));
        assert.equal(err.code, 'UNREACHABLE');
        assert.match(err.message, /self[- ]signed|certificate/i);
        return true;
      });
    } finally {
      await target.close();
    }
  });

  it('trusts the certificate given as the endpoint CA', async () => {
    const target = new OciTarget(endpoint({ caCertificate: ca }));
    try {
      await target.ping();
      assert.deepEqual(await target.listTags('nothing/here'), []);
      // The blob bytes go through the upload client (Node's https), with the same CA, on lent buffers.
      const { digest, size, source } = lendingBlob(3);
      await target.writeBlob('tls/ca', digest, size, source);
      assert.equal(await target.hasBlob('tls/ca', digest), true);
      // And the download, through Node's https with the same CA.
      assert.equal(await readAll(await target.readBlob('tls/ca', digest)), size);
    } finally {
      await target.close();
    }
  });

  it('skips verification for an insecure endpoint', async () => {
    const target = new OciTarget(endpoint({ insecure: true }));
    try {
      await target.ping();
      const { digest, size, source } = lendingBlob(2);
      await target.writeBlob('tls/insecure', digest, size, source);
      assert.equal(await target.hasBlob('tls/insecure', digest), true);
      assert.equal(await readAll(await target.readBlob('tls/insecure', digest)), size);
    } finally {
      await target.close();
    }
  });
});
