import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Writable, type Readable } from 'node:stream';
import { releasesChunksOnCallback } from '@wharf/sdk';

/**
 * The requests that carry blob bytes in bulk go through Node's own HTTP client rather than
 * undici. Uploads (the streamed PATCH): its `write(chunk, callback)` calls back once the chunk
 * is in the kernel, which lets the source lend pooled buffers (see the SDK's
 * `releasesChunksOnCallback`) instead of allocating 1 MiB per chunk; with fresh buffers, a
 * 256 MiB copy drove V8 into a full collection every 50 ms or so and cost a third of the time.
 * Downloads (`get`): undici's response body cost 2.5 ms/MiB more CPU than node:http's
 * (docs/benchmarks.md, proxy-cache section). undici keeps the API calls.
 */

export interface BulkAgentOptions {
  /** Trusted CAs (PEM): the system's plus the endpoint's, or `undefined` for the system's alone. */
  readonly ca: string[] | undefined;
  readonly rejectUnauthorized: boolean;
  /** Socket inactivity limit, connect included. */
  readonly timeoutMs: number;
}

export interface UploadRequest {
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly size: number;
  readonly data: Readable;
  readonly signal?: AbortSignal | undefined;
  /** The error for a source holding another number of bytes than `size` (`seen` so far). */
  readonly mismatch: (seen: number) => Error;
}

/** Errors that came from the source stream (or its size), not from the network: they keep their own code. */
const sourceErrors = new WeakSet<object>();
export function isSourceError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && sourceErrors.has(err);
}

export interface UploadAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: IncomingMessage;
}

/** Keep-alive agents (plain and TLS) for one endpoint's bulk requests: blob uploads and downloads. */
export class BulkAgent {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #timeoutMs: number;

  constructor(options: BulkAgentOptions) {
    this.#timeoutMs = options.timeoutMs;
    this.#http = new http.Agent({ keepAlive: true });
    this.#https = new https.Agent({ keepAlive: true, rejectUnauthorized: options.rejectUnauthorized, ...(options.ca ? { ca: options.ca } : {}) });
  }

  /**
   * Sends `data` as the body of a PATCH with `Content-Length: size`, and resolves with the
   * answer once its headers arrive. The source is piped straight into the request body, so a
   * storage stream can lend its buffers. Network failures reject with Node's error (its `code`
   * tells what happened); a failing source rejects with the source's error.
   */
  patch(request: UploadRequest): Promise<UploadAnswer> {
    const { url, size, data, signal } = request;
    return new Promise<UploadAnswer>((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request(url, {
        method: 'PATCH',
        headers: { ...request.headers, 'content-length': String(size) },
        agent: url.protocol === 'https:' ? this.#https : this.#http,
        timeout: this.#timeoutMs,
        ...(signal ? { signal } : {}),
      });
      const body = new UploadBody(req, size, request.mismatch);
      let settled = false;
      const fail = (err: Error, fromSource = false) => {
        if (settled) return;
        settled = true;
        if (fromSource) sourceErrors.add(err);
        data.unpipe(body);
        data.destroy();
        body.destroy();
        req.destroy();
        reject(err);
      };
      req.on('timeout', () => req.destroy(Object.assign(new Error('upload timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => fail(err));
      req.on('response', (res) => {
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        // An early answer (a refusal before the whole body went out): stop sending once it is read.
        res.once('close', () => {
          if (!body.writableFinished) {
            data.unpipe(body);
            data.destroy();
            req.destroy();
          }
        });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      data.once('error', (err) => fail(err, true));
      // The body fails for a size mismatch (the source's fault) or when the request failed first.
      body.once('error', (err) => fail(err, body.mismatched));
      data.pipe(body);
    });
  }

  /**
   * A GET whose body is blob bytes, through the same agents: Node's client hands the body on in
   * the socket's own chunks, where undici's costs about 2.5 ms more CPU per MiB (a first pull
   * through a proxy-cache project spent more time there than anywhere else; docs/benchmarks.md).
   * Resolves once the headers arrive; the body is the response itself, with `dump()`.
   */
  get(request: { readonly url: URL; readonly headers: Record<string, string>; readonly signal?: AbortSignal | undefined }): Promise<{ status: number; headers: IncomingHttpHeaders; body: IncomingMessage & { dump(): Promise<void> } }> {
    const { url, signal } = request;
    return new Promise((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request(url, {
        method: 'GET',
        headers: request.headers,
        agent: url.protocol === 'https:' ? this.#https : this.#http,
        timeout: this.#timeoutMs,
        ...(signal ? { signal } : {}),
      });
      let answered = false;
      req.on('timeout', () => req.destroy(Object.assign(new Error(answered ? 'download stalled' : 'no answer in time'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      req.on('response', (res) => {
        answered = true;
        // A body cut short (the connection lost midway) must fail the read, not end it early.
        req.on('error', (err) => res.destroy(err));
        const body = Object.assign(res, {
          // Reads the rest and drops it: the socket goes back to the agent only once the body ended.
          dump: async (): Promise<void> => {
            if (res.readableEnded || res.destroyed) return;
            const ended = new Promise<void>((done) => {
              res.once('end', done);
              res.once('close', done);
              res.once('error', () => done());
            });
            res.resume();
            await ended;
          },
        });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      req.end();
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

/**
 * The request body as a Writable: counts bytes, refuses more than declared, ends the request
 * when the source ends, and calls back for a chunk only once the request has flushed it. That
 * last promise is what the `releasesChunksOnCallback` mark says.
 */
class UploadBody extends Writable {
  readonly [releasesChunksOnCallback] = true;
  sent = 0;
  mismatched = false;

  constructor(
    private readonly req: http.ClientRequest,
    private readonly size: number,
    private readonly mismatch: (seen: number) => Error,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.sent + chunk.length > this.size) {
      this.mismatched = true;
      done(this.mismatch(this.sent + chunk.length));
      return;
    }
    this.sent += chunk.length;
    this.req.write(chunk, (err) => done(err ?? null));
  }

  override _final(done: (error?: Error | null) => void): void {
    // Ending short of Content-Length would leave the registry waiting for the rest.
    if (this.sent !== this.size) {
      this.mismatched = true;
      done(this.mismatch(this.sent));
      return;
    }
    this.req.end(() => done());
  }
}
