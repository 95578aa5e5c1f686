import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { registryTest } from '../helpers/e2e.js';
import { hashWebStream } from '../helpers/hash.js';
import { asAdmin, describeHttp, request, uploadUrl } from '../helpers/oci-http.js';
import { PatternSource } from '../helpers/pattern-stream.js';
import { basicAuth, startTarget, type RegistryHandle } from '../helpers/server.js';
import { uniqueRepo } from '../helpers/temp.js';
import { prepareE2eProject } from '../helpers/wharf-api.js';

// kill -9 in the middle of a large streamed blob upload, restart on the same data dir and
// port, then resume the upload where the server says it stopped.

const MiB = 1024 * 1024;
/** WHARF_E2E_CRASH_MIB shrinks the blob for quick local runs; CI uses the default 1 GiB. */
const TOTAL = Number(process.env['WHARF_E2E_CRASH_MIB'] ?? 1024) * MiB;
const KILL_AFTER = Math.floor(TOTAL * 0.3);
/** Sent first as one acknowledged chunk: it must survive the crash. */
const ACKED = Math.floor(TOTAL / 16);

let first: RegistryHandle | undefined;
let second: RegistryHandle | undefined;

before(async () => {
  first = await startTarget();
  await prepareE2eProject(first);
});

after(async () => {
  await second?.stop();
  // The first handle owns the data dir, so it is removed last.
  await first?.stop();
});

const current = (): RegistryHandle | undefined => second ?? first;

/** The administrator's Basic credentials on Wharf; nothing for an open registry. */
function authHeader(): Record<string, string> {
  const admin = first?.admin;
  return admin ? { authorization: basicAuth(admin) } : {};
}

/**
 * Streams a PATCH body (chunked, no Content-Length, as skopeo does) holding the upload's bytes
 * from offset `from` on, and kills the server once the upload reaches `killAfter` bytes handed
 * to the socket. Resolves with that end offset: an upper bound of what the server received.
 */
function patchUntilKilled(url: URL, source: PatternSource, from: number, killAfter: number, kill: () => Promise<void>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream', ...authHeader() } });
    let sent = from;
    let killing = false;
    req.on('error', () => {
      // Expected once the server is gone (ECONNRESET / EPIPE).
    });
    req.on('response', (res: IncomingMessage) => {
      if (killing) return;
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; });
      res.on('end', () => reject(new Error(`server answered the streaming PATCH early: ${res.statusCode}\n${body}`)));
    });
    const chunkSize = 256 * 1024;
    const pump = (): void => {
      while (!killing) {
        const ok = req.write(source.chunk(sent, chunkSize));
        sent += chunkSize;
        if (sent >= killAfter) {
          killing = true;
          kill().then(() => { req.destroy(); resolve(sent); }, reject);
          return;
        }
        if (!ok) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

/** PATCH [offset, total) with Content-Range, streamed from the pattern; returns the response. */
async function patchRange(url: URL, source: PatternSource, offset: number, total: number): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(total - offset),
        'content-range': `${offset}-${total - 1}`,
        ...authHeader(),
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    pipeline(source.stream(offset, total), req).catch(reject);
  });
}

registryTest(`kill -9 during a ${TOTAL / MiB} MiB push, restart, resume, blob intact`, current, async () => {
  assert.ok(first);
  const repo = uniqueRepo('crash');
  const source = new PatternSource();
  const t0 = Date.now();
  const lap = (what: string): void => { process.stderr.write(`# ${what}: ${Date.now() - t0} ms\n`); };
  const digest = source.digest(TOTAL);
  lap('expected digest computed');

  const start = await request(`${first.url}/v2/${repo}/blobs/uploads/`, asAdmin(first, { method: 'POST' }));
  assert.equal(start.status, 202, describeHttp('POST upload', start));
  const location = uploadUrl(first.url, start.headers.get('location'));

  // A first chunk the server acknowledges (202), then the rest streamed until the kill.
  const acked = await patchRange(location, source, 0, ACKED);
  assert.equal(acked.status, 202, `first chunk → ${acked.status}\n${acked.body}`);
  assert.equal(acked.headers['range'], `0-${ACKED - 1}`);
  const next = uploadUrl(first.url, String(acked.headers['location'] ?? location.href));
  const srv1 = first;
  const sent = await patchUntilKilled(next, source, ACKED, KILL_AFTER, () => srv1.kill('SIGKILL'));
  assert.equal(first.process.signalCode, 'SIGKILL', 'the server should have died from SIGKILL');

  lap('killed');
  second = await startTarget({ dataDir: first.dataDir, port: first.port });
  lap('restarted');
  const base = second.url;

  // Nothing was committed: the digest is unknown.
  const head = await request(`${base}/v2/${repo}/blobs/${digest}`, asAdmin(second, { method: 'HEAD' }));
  assert.equal(head.status, 404, describeHttp('HEAD blob after crash', head));

  // The upload survived, and says how much of it is safely stored.
  const status = await request(next.href, asAdmin(second));
  const why = describeHttp('GET upload status after crash', status);
  assert.equal(status.status, 204, why);
  const range = /^0-(\d+)$/.exec(status.headers.get('range') ?? '');
  assert.ok(range, `upload status needs a Range header\n${why}`);
  const end = Number(range[1]);
  // "0-0" is what registries answer for an empty upload.
  const offset = end === 0 ? 0 : end + 1;
  assert.ok(offset <= sent, `server claims ${offset} bytes but only ${sent} were sent\n${why}`);
  assert.ok(offset >= ACKED, `server lost acknowledged bytes: kept ${offset} of ${ACKED}\n${why}`);
  process.stderr.write(`# sent ${sent} bytes before kill -9; server kept ${offset}\n`);

  // Resume from that offset with a Content-Range PATCH, then close with PUT ?digest=.
  const resumeUrl = uploadUrl(base, status.headers.get('location') ?? next.href);
  const patched = await patchRange(resumeUrl, source, offset, TOTAL);
  const patchWhy = `PATCH ${offset}-${TOTAL - 1} → ${patched.status}\n${JSON.stringify(patched.headers)}\n${patched.body}`;
  assert.equal(patched.status, 202, patchWhy);
  assert.equal(patched.headers['range'], `0-${TOTAL - 1}`, patchWhy);

  lap('resumed PATCH done');
  const finish = uploadUrl(base, String(patched.headers['location'] ?? resumeUrl.href));
  finish.searchParams.set('digest', digest);
  const put = await request(finish.href, asAdmin(second, { method: 'PUT', signal: AbortSignal.timeout(240_000) }));
  const putWhy = describeHttp('PUT ?digest=', put);
  assert.equal(put.status, 201, putWhy);
  assert.equal(put.headers.get('docker-content-digest'), digest, putWhy);

  lap('PUT done');
  const headAfter = await request(`${base}/v2/${repo}/blobs/${digest}`, asAdmin(second, { method: 'HEAD' }));
  assert.equal(headAfter.status, 200, describeHttp('HEAD blob after commit', headAfter));
  assert.equal(headAfter.headers.get('content-length'), String(TOTAL));

  // The full blob, streamed and hashed: the bytes before and after the crash are all right.
  const res = await fetch(`${base}/v2/${repo}/blobs/${digest}`, asAdmin(second, { signal: AbortSignal.timeout(240_000) }));
  assert.equal(res.status, 200);
  assert.ok(res.body);
  const got = await hashWebStream(res.body);
  lap('GET hashed');
  assert.equal(got.size, TOTAL);
  assert.equal(got.digest, digest);
}, { timeout: 300_000 });
