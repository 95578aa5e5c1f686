import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { WebhookTarget } from '@wharf/sdk';
import type { NetworkGuard } from './network-guard.js';

// Plain HTTP receivers get kept-alive connections: a busy policy sends many requests to one host.
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000 });

/**
 * One POST with node's http/https client: a custom CA and "skip verify" need per-request TLS
 * options, which the global fetch does not take. Reads at most 64 KiB of the answer and drops it.
 * Never connects to an address `guard` denies (checked on the resolved addresses).
 */
export async function postJson(
  target: Pick<WebhookTarget, 'address' | 'skipCertVerify' | 'caCertPem'>,
  body: string,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
  guard: NetworkGuard,
): Promise<number> {
  const url = new URL(target.address);
  const denied = guard.checkHost(url.hostname);
  if (denied) throw new Error(denied);
  const isHttps = url.protocol === 'https:';
  const options: https.RequestOptions = {
    method: 'POST',
    lookup: guard.lookup,
    headers: { 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'wharf-webhooks', ...headers },
    signal,
    ...(isHttps
      ? { agent: false, rejectUnauthorized: !target.skipCertVerify, ...(target.caCertPem ? { ca: [...rootCertificates, target.caCertPem] } : {}) }
      : { agent: keepAlive }),
  };
  return new Promise<number>((resolve, reject) => {
    const req = (isHttps ? https : http).request(url, options, (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > 65_536) res.destroy();
      });
      res.on('close', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err) => reject(signal.aborted ? new Error(`timed out or cancelled (${err.message})`) : err));
    req.end(body);
  });
}

/** Checks an HTTP(S) address; a message when it is not one, or is an IP address `guard` denies. */
export function checkHttpAddress(address: string, guard: NetworkGuard): string | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return `address "${address.slice(0, 200)}" is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `address must be an http:// or https:// URL`;
  if (url.username || url.password) return 'address must not carry credentials: use auth_header';
  return guard.checkHost(url.hostname);
}
