import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isReplicationTargetError, type Digest } from '@wharf/sdk';
import { OciTarget } from './index.js';

// Blob downloads go through Node's HTTP client (client/bulk.ts `get`): a body cut short or
// stalled midway must fail the read with the adapter's error, never end it early as if whole;
// a redirect to another origin is followed without our credentials.

const BLOB = Buffer.alloc(256 * 1024, 7);
const DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}` as Digest;

describe('oci adapter blob downloads (Node http client)', () => {
  let server: http.Server;
  let url: string;
  const seen: { path: string; authorization: string | undefined }[] = [];
  let connections = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      const path = req.url ?? '';
      const headers = { 'content-length': String(BLOB.length), 'content-type': 'application/octet-stream' };
      if (path.startsWith('/v2/cut/')) {
        res.writeHead(200, headers);
        res.write(BLOB.subarray(0, 1000), () => res.socket?.destroy());
      } else if (path.startsWith('/v2/stall/')) {
        res.writeHead(200, headers);
        res.write(BLOB.subarray(0, 1000)); // and nothing more
      } else if (path.startsWith('/v2/moved/')) {
        res.writeHead(307, { location: `${url}/storage/object?signature=x`, 'content-type': 'text/html' }).end('<a href="/storage/object">moved</a>');
      } else if (path.startsWith('/storage/') || path.startsWith('/v2/whole/')) {
        res.writeHead(200, headers).end(BLOB);
      } else res.writeHead(404).end();
    });
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
  });

  const read = async (target: OciTarget, repository: string): Promise<number> => {
    const reader = await target.readBlob(repository, DIGEST);
    let n = 0;
    for await (const chunk of reader.stream) n += (chunk as Buffer).length;
    return n;
  };

  it('reads a whole blob, checking its digest, and follows a redirect to object storage without credentials', async () => {
    const target = new OciTarget({ name: 'dl', type: 'oci', url, credentials: { username: 'u', password: 'p' } });
    try {
      assert.equal(await read(target, 'whole/app'), BLOB.length);
      assert.equal(await read(target, 'moved/app'), BLOB.length);
      const storage = seen.find((s) => s.path.startsWith('/storage/'));
      assert.ok(storage, 'the redirect was followed');
      assert.equal(storage.authorization, undefined, 'no credentials to another origin');
    } finally {
      await target.close();
    }
  });

  it('gives the connection of a redirect answer back for reuse (its body is read and dropped)', async () => {
    const target = new OciTarget({ name: 'dl', type: 'oci', url });
    try {
      assert.equal(await read(target, 'whole/app'), BLOB.length);
      const before = connections;
      for (let i = 0; i < 5; i++) assert.equal(await read(target, 'moved/app'), BLOB.length);
      assert.ok(connections - before <= 1, `${connections - before} new connections for five redirected reads`);
    } finally {
      await target.close();
    }
  });

  it('fails a read whose connection is cut midway (no early end taken as whole)', async () => {
    const target = new OciTarget({ name: 'dl', type: 'oci', url });
    try {
      await assert.rejects(read(target, 'cut/app'), (err: unknown) => {
        assert.ok(err instanceof Error);
        return true;
      });
    } finally {
      await target.close();
    }
  });

  it('fails a read that stalls midway after the request timeout', async () => {
    const target = new OciTarget({ name: 'dl', type: 'oci', url }, { requestTimeoutMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(read(target, 'stall/app'));
      assert.ok(Date.now() - started < 5000, 'within about the timeout');
    } finally {
      await target.close();
    }
  });

  it('names a missing blob as the adapter does', async () => {
    const target = new OciTarget({ name: 'dl', type: 'oci', url });
    try {
      await assert.rejects(target.readBlob('gone/app', DIGEST), (err: unknown) => isReplicationTargetError(err) && err.code === 'NOT_FOUND');
    } finally {
      await target.close();
    }
  });
});
