import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import type { PluginContext, ReplicationEndpoint } from '@wharf/sdk';
import { createRequire } from 'node:module';
import './node-dispatcher-first.js';
import type { Agent } from 'undici';
import { Authenticator } from '../auth/authenticator.js';
import type { Scope } from '../auth/scopes.js';
import { networkError, protocolError, responseError, type ErrorContext } from './errors.js';
import { isSourceError, BulkAgent, type UploadAnswer } from './bulk.js';

type Logger = PluginContext<unknown>['logger'];

// undici takes about 0.15 s of CPU to load: required when the first client is made, so a node
// that never talks to another registry does not pay it at boot. (CommonJS, so require works.)
const requireModule = createRequire(import.meta.url);
let undici: typeof import('undici') | undefined;
const loadUndici = (): typeof import('undici') => (undici ??= requireModule('undici') as typeof import('undici'));

/**
 * The HTTP side of a target: one undici Agent per endpoint (keep-alive, the endpoint's TLS
 * settings), authentication, redirects, and error mapping. Every call names an operation, so
 * errors say what failed where.
 */

export interface ClientOptions {
  readonly endpoint: ReplicationEndpoint;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly userAgent: string;
  readonly logger?: Logger | undefined;
}

/** What a call is for: its name in messages and the token scopes it needs. */
export interface Operation {
  readonly name: string;
  readonly scopes: readonly Scope[];
}

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface SendOptions {
  readonly method: Method;
  /** A path below the endpoint (`/v2/...`), or an absolute URL (a `Location`). */
  readonly url: string | URL;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** A Buffer can be replayed after a challenge; a stream cannot, so it is sent authenticated up front. */
  readonly body?: Buffer | Readable | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Follow 3xx answers (blob downloads redirect to object storage). */
  readonly followRedirects?: boolean | undefined;
  /** The answer's body is blob bytes: a GET sent through Node's HTTP client (see bulk.ts `get`). */
  readonly bulk?: boolean | undefined;
}

/** An answer's body: a stream, and `dump()` to drop the rest and free the connection. */
export type AnswerBody = Readable & { dump(): Promise<unknown> };

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: AnswerBody;
  /** Where the answer came from, after redirects. */
  readonly url: URL;
  /** Whether the request carried a Bearer token. */
  readonly bearer: boolean;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const ERROR_BODY_LIMIT = 64 * 1024;

/** The first value of a response header. */
export function headerOf(answer: { headers: IncomingHttpHeaders }, name: string): string | undefined {
  const value = answer.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads at most `limit` bytes of a body; more is an error (`undefined` result), and the rest is dropped. */
export async function readBody(body: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class RegistryClient {
  readonly endpoint: ReplicationEndpoint;
  readonly base: URL;
  readonly auth: Authenticator;
  /** `endpoint "name" (https://host)`: how messages name the endpoint. */
  readonly label: string;
  readonly #agent: Agent;
  /** Node's HTTP client, for the blob bytes in bulk: uploads and downloads (see bulk.ts). */
  readonly #bulk: BulkAgent;
  readonly #userAgent: string;
  /** The URL's path without a trailing slash (`''` or `/prefix`), put before `/v2/`. */
  readonly #basePath: string;

  constructor(options: ClientOptions) {
    this.endpoint = options.endpoint;
    const base = new URL(options.endpoint.url);
    // Credentials never travel in the URL, so they cannot end up in a message.
    base.username = '';
    base.password = '';
    this.#basePath = base.pathname.replace(/\/+$/, '');
    base.search = '';
    base.hash = '';
    this.base = base;
    this.label = `endpoint "${options.endpoint.name}" (${base.origin})`;
    this.#userAgent = options.userAgent;
    const ca = options.endpoint.caCertificate ? [...tls.rootCertificates, options.endpoint.caCertificate] : undefined;
    this.#agent = new (loadUndici().Agent)({
      connect: { timeout: options.connectTimeoutMs, rejectUnauthorized: options.endpoint.insecure !== true, ...(ca ? { ca } : {}) },
      keepAliveTimeout: 30_000,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
    this.#bulk = new BulkAgent({ ca, rejectUnauthorized: options.endpoint.insecure !== true, timeoutMs: options.requestTimeoutMs });
    this.auth = new Authenticator({
      credentials: options.endpoint.credentials,
      base,
      logger: options.logger,
      fetchToken: (realm, authorization, key) => this.#fetchToken(realm, authorization, key),
    });
  }

  ctx(operation: string): ErrorContext {
    return { endpoint: this.label, operation };
  }

  /** `/v2/...` below the endpoint's URL, or an absolute or relative `Location`. */
  resolve(url: string | URL): URL {
    if (url instanceof URL) return new URL(url.href);
    if (url.startsWith('/v2/') || url === '/v2/') return new URL(`${this.#basePath}${url}`, this.base.origin);
    return new URL(url, this.base);
  }

  /** Sends a request, answering one authentication challenge and following redirects if asked. */
  async send(op: Operation, options: SendOptions): Promise<Answer> {
    let url = this.resolve(options.url);
    const replayable = !(options.body instanceof Readable);
    let authorization = await this.#authorization(op, url);
    let answer = await this.#raw(op, options, url, authorization);
    if (answer.status === 401 && replayable) {
      const header = answer.headers['www-authenticate'];
      const sentBasic = authorization?.startsWith('Basic ') === true;
      const learned = this.auth.onChallenge(header, op.scopes, answer.bearer);
      const again = learned && !(sentBasic && this.auth.scheme === 'basic') ? await this.#authorization(op, url) : undefined;
      if (again !== undefined) {
        await answer.body.dump().catch(() => undefined);
        authorization = again;
        answer = await this.#raw(op, options, url, authorization);
      }
    }
    for (let hops = 0; options.followRedirects && REDIRECTS.has(answer.status); hops++) {
      const location = headerOf(answer, 'location');
      if (!location) break;
      if (hops >= MAX_REDIRECTS) throw protocolError(this.ctx(op.name), `more than ${MAX_REDIRECTS} redirects`, 'REMOTE_ERROR');
      await answer.body.dump().catch(() => undefined);
      url = new URL(location, url);
      // Object storage gets a presigned URL, never our credentials.
      authorization = url.origin === this.base.origin ? authorization : undefined;
      answer = await this.#raw(op, { ...options, method: options.method === 'HEAD' ? 'HEAD' : 'GET', body: undefined }, url, authorization);
    }
    return answer;
  }

  /**
   * Streams `size` bytes of `data` as the body of a PATCH to an upload `url` (authenticated up
   * front: a stream cannot be replayed after a challenge), then any status but `ok` becomes the
   * matching error. The source is piped straight into the request, so it may lend its buffers.
   */
  async upload(op: Operation, url: URL, size: number, data: Readable, options: { signal?: AbortSignal | undefined; mismatch: (seen: number) => Error }, ok: readonly number[]): Promise<UploadAnswer> {
    const headers: Record<string, string> = { 'user-agent': this.#userAgent, 'content-type': 'application/octet-stream' };
    const authorization = await this.#authorization(op, url);
    if (authorization) headers['authorization'] = authorization;
    let answer: UploadAnswer;
    try {
      answer = await this.#bulk.patch({ url, headers, size, data, signal: options.signal, mismatch: options.mismatch });
    } catch (err) {
      throw isSourceError(err) ? err : networkError(this.ctx(op.name), err);
    }
    if (ok.includes(answer.status)) return answer;
    throw await this.errorOf(op, { ...answer, bearer: authorization?.startsWith('Bearer ') === true });
  }

  /** {@link send}, then any status but `ok` becomes the matching error. */
  async expect(op: Operation, options: SendOptions, ok: readonly number[]): Promise<Answer> {
    const answer = await this.send(op, options);
    if (ok.includes(answer.status)) return answer;
    throw await this.errorOf(op, answer);
  }

  /** The error an unexpected answer stands for (its body is read, bounded, and closed). */
  async errorOf(op: Operation, answer: Pick<Answer, 'status' | 'headers' | 'bearer'> & { readonly body: Readable }): Promise<Error> {
    const body = await readBody(answer.body, ERROR_BODY_LIMIT).catch(() => undefined);
    const insufficientScope =
      answer.status === 401 && answer.bearer && this.auth.hasCredentials && Authenticator.insufficientScope(answer.headers['www-authenticate']);
    return responseError(this.ctx(op.name), answer.status, body?.toString('utf8') ?? '', { insufficientScope });
  }

  /** Reads a whole (small) body, mapping a connection lost midway. */
  async readAll(op: Operation, answer: Answer, limit: number): Promise<Buffer> {
    let body: Buffer | undefined;
    try {
      body = await readBody(answer.body, limit);
    } catch (err) {
      throw networkError(this.ctx(op.name), err);
    }
    if (body === undefined) throw protocolError(this.ctx(op.name), `response larger than ${limit} bytes`);
    return body;
  }

  async close(): Promise<void> {
    this.#bulk.close();
    await this.#agent.close();
  }

  async #authorization(op: Operation, url: URL): Promise<string | undefined> {
    if (url.origin !== this.base.origin) return undefined;
    return this.auth.header(op.scopes);
  }

  async #raw(op: Operation, options: SendOptions, url: URL, authorization: string | undefined): Promise<Answer> {
    const headers: Record<string, string> = { 'user-agent': this.#userAgent, ...options.headers };
    if (authorization) headers['authorization'] = authorization;
    try {
      if (options.bulk && options.method === 'GET' && options.body === undefined) {
        const res = await this.#bulk.get({ url, headers, signal: options.signal });
        return { status: res.status, headers: res.headers, body: res.body, url, bearer: authorization?.startsWith('Bearer ') === true };
      }
      const res = await this.#agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: options.method,
        headers,
        body: options.body ?? null,
        signal: options.signal ?? null,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body as unknown as AnswerBody, url, bearer: authorization?.startsWith('Bearer ') === true };
    } catch (err) {
      throw networkError(this.ctx(op.name), err);
    }
  }

  async #fetchToken(realm: URL, authorization: string | undefined, key: string): Promise<{ token: string; expiresIn: number | undefined }> {
    const op: Operation = { name: `get a token for ${key || 'no scope'}`, scopes: [] };
    const headers: Record<string, string> = { accept: 'application/json' };
    const answer = await this.#raw(op, { method: 'GET', url: realm, headers }, realm, authorization);
    if (answer.status !== 200) {
      const body = await readBody(answer.body, ERROR_BODY_LIMIT).catch(() => undefined);
      throw responseError(this.ctx(op.name), answer.status, body?.toString('utf8') ?? '');
    }
    const body = await this.readAll(op, answer, 1024 * 1024);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw protocolError(this.ctx(op.name), 'the token service answered with something other than JSON', 'REMOTE_ERROR');
    }
    const token = typeof parsed.token === 'string' && parsed.token ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || !token) throw protocolError(this.ctx(op.name), 'the token service answered without a token', 'REMOTE_ERROR');
    return { token, expiresIn: typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : undefined };
  }
}
