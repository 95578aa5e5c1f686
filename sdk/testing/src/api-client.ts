import assert from 'node:assert/strict';

/**
 * A small JSON client for management API tests: status, headers, raw text and parsed body of
 * one request. Each request comes from its own client address (`X-Forwarded-For`; the registry
 * under test needs `server.trustProxy: true`), because failed-login slowdowns are per address and
 * one test's failures must not slow the next one.
 */

export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed JSON body, `undefined` when empty or not JSON. */
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface ApiCallOptions {
  /** The `Authorization` header value, e.g. from {@link basicAuth}. */
  readonly auth?: string | undefined;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Extra request headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** `Basic` credentials for the `Authorization` header. */
export function basicAuth(name: string, password: string): string {
  return `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
}

let nextAddress = 1;

/** A client address no earlier call used (10.0.0.0/8 holds 16 million). */
function freshAddress(): string {
  const n = nextAddress++ % 0xffffff || nextAddress++;
  return `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** One request to `url` + `pathAndQuery` with an optional JSON body. */
export async function callApi(url: string, method: string, pathAndQuery: string, options: ApiCallOptions = {}): Promise<JsonResponse> {
  const headers: Record<string, string> = { 'x-forwarded-for': freshAddress(), ...options.headers };
  if (options.auth) headers.authorization = options.auth;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${pathAndQuery}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** Asserts the management API's error envelope: the status, the first error's code and, optionally, its message. */
export function assertApiError(res: JsonResponse, status: number, code: string, message?: RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.errors?.[0]?.code, code, res.text);
  if (message) assert.match(String(res.body.errors[0].message), message);
}
