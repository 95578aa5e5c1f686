import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

// The fault proxy in front of a plain node:http server standing in for a registry: it forwards
// and counts, streams without buffering, and switches to 429, 503, hang and refuse and back.

let upstream: Server;
let proxy: FaultProxy;
/** Resolves the upstream's held response when the test says so (the streaming check). */
let releaseStream: (() => void) | undefined;

before(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/stream') {
      // First chunk now, the rest only once the client has seen the first one.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('first;');
      releaseStream = () => res.end('rest');
      return;
    }
    if (req.method === 'PUT') {
      let n = 0;
      req.on('data', (c: Buffer) => { n += c.length; });
      req.on('end', () => res.writeHead(201, { 'x-received': String(n) }).end());
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream-host': req.headers.host ?? '' }).end(`hello ${req.url}`);
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  const addr = upstream.address();
  assert.ok(addr && typeof addr === 'object');
  proxy = await startFaultProxy(`http://127.0.0.1:${addr.port}`);
});

after(async () => {
  await proxy.stop();
  upstream.closeAllConnections();
  upstream.close();
});

test('forwards with the client Host header and counts by method and path, query ignored', async () => {
  proxy.resetCounts();
  for (const path of ['/v2/a/blobs/sha256:1?x=1', '/v2/a/blobs/sha256:1', '/v2/a/manifests/v1']) {
    const res = await fetch(`${proxy.url}${path}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `hello ${path}`);
    assert.equal(res.headers.get('x-upstream-host'), proxy.host);
  }
  const put = await fetch(`${proxy.url}/v2/a/blobs/uploads/1`, { method: 'PUT', body: 'x'.repeat(100_000) });
  assert.equal(put.headers.get('x-received'), '100000');
  assert.equal(proxy.count('GET', '/v2/a/blobs/sha256:1'), 2);
  assert.equal(proxy.count('HEAD', '/v2/a/blobs/sha256:1'), 0);
  assert.equal(proxy.countMatching('GET', /\/manifests\//), 1);
  assert.equal(proxy.count('PUT', '/v2/a/blobs/uploads/1'), 1);
  assert.deepEqual(proxy.requests.map((r) => r.status), [200, 200, 200, 201]);
});

test('streams a response: the first bytes reach the client before the upstream has finished', async () => {
  const res = await fetch(`${proxy.url}/stream`);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.equal(Buffer.from(first.value!).toString(), 'first;');
  assert.ok(releaseStream, 'the upstream did not get the request');
  releaseStream();
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
  assert.equal(rest, 'rest');
});

test('answers 429 with Retry-After, then 503, without reaching the upstream; back to forwarding', async () => {
  await proxy.setMode({ kind: 'status', status: 429, retryAfterSeconds: 7 });
  const limited = await fetch(`${proxy.url}/v2/a/manifests/v1`, { method: 'HEAD' });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '7');
  const body = await (await fetch(`${proxy.url}/v2/a/manifests/v1`)).json() as { errors: { code: string }[] };
  assert.equal(body.errors[0]?.code, 'TOOMANYREQUESTS');
  await proxy.setMode({ kind: 'status', status: 503 });
  const down = await fetch(`${proxy.url}/v2/`);
  assert.equal(down.status, 503);
  assert.equal(down.headers.get('retry-after'), null);
  await down.arrayBuffer();
  await proxy.setMode({ kind: 'forward' });
  assert.equal((await fetch(`${proxy.url}/v2/`)).status, 200);
});

test('hangs until the client gives up; refuses connections; comes back on the same port', async () => {
  await proxy.setMode({ kind: 'hang' });
  const hung = await fetch(`${proxy.url}/v2/hang`, { signal: AbortSignal.timeout(300) }).catch((e: Error) => e);
  assert.ok(hung instanceof Error && hung.name === 'TimeoutError', String(hung));
  assert.equal(proxy.requests.at(-1)?.path, '/v2/hang');
  assert.equal(proxy.requests.at(-1)?.status, 0);

  await proxy.setMode({ kind: 'refuse' });
  // A plain connect: fetch could pick a pooled socket whose close it has not noticed yet.
  const refused = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const socket = connect(proxy.port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(undefined); });
    socket.once('error', resolve);
  });
  assert.equal(refused?.code, 'ECONNREFUSED', String(refused));

  await proxy.setMode({ kind: 'forward' });
  const back = await fetch(`${proxy.url}/v2/back`);
  assert.equal(await back.text(), 'hello /v2/back');
});
