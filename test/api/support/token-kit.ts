import assert from 'node:assert/strict';
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '@wharf/core';
import { RegistryError, Type, definePlugin, type Principal } from '@wharf/sdk';
import { imageParts, sha256 } from './oci.js';

/**
 * Token auth API tests: a registry with `token.enabled`, an in-code plugin with static users
 * (alice owns alice/*, everyone pulls public/*, root is admin) that counts provider calls, and
 * helpers to get, forge and use tokens.
 */

export const PASSWORDS: Readonly<Record<string, string>> = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw', root: 'root-pw' };

export interface TokenRegistry {
  readonly server: RunningServer;
  readonly url: string;
  readonly dataDir: string;
  /** User names the authenticate tap was asked about, in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

function staticUsers(calls: string[]) {
  return definePlugin({
    id: 'token-test-users',
    kind: 'extension',
    version: '0.0.0',
    kernel: '^0.1.0',
    configSchema: Type.Object({}),
    register(ctx) {
      ctx.hooks.auth.authenticate.tapPromise('users', async (creds) => {
        if (creds.kind !== 'basic') return undefined;
        calls.push(creds.username);
        if (PASSWORDS[creds.username] === undefined || PASSWORDS[creds.username] !== creds.password) {
          throw new RegistryError('UNAUTHORIZED', 'invalid username or password');
        }
        const principal: Principal = { subject: creds.username, kind: 'user', provider: 'token-test-users', groups: [], admin: creds.username === 'root' };
        return principal;
      });
      ctx.hooks.rbac.authorize.tapPromise('rules', async (principal, access) => {
        const name = access.resource.name;
        if (principal.kind !== 'anonymous' && name.startsWith(`${principal.subject}/`)) return { allow: true };
        if (name.startsWith('public/') && access.action === 'pull') return { allow: true };
        return { allow: false };
      });
    },
  });
}

export async function startTokenRegistry(token: Record<string, unknown> = {}, dataDir?: string): Promise<TokenRegistry> {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'wharf-token-')));
  const calls: string[] = [];
  const server = await startServer({
    listen: '127.0.0.1:0',
    dataDir: dir,
    plugins: [staticUsers(calls)],
    overrides: {
      log: { level: process.env.WHARF_TEST_LOG ?? 'silent' },
      // X-Forwarded-For gives each test its own client address for the failed-login slowdown.
      server: { trustProxy: true },
      // Only the static users and rules below decide: no db users or projects.
      auth: [],
      rbac: {},
      logging: {},
      extensions: { 'token-test-users': {} },
      token: { enabled: true, ...token },
    },
  });
  return {
    server,
    url: server.url,
    dataDir: dir,
    calls,
    close: async () => {
      await server.close();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

export const basic = (user: string, password = PASSWORDS[user] ?? '') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
export const bearer = (token: string) => `Bearer ${token}`;

export interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
  scope?: string;
}

/** `GET /service/token` with repeated `scope` parameters; `user` undefined means anonymous. */
export async function fetchToken(
  url: string,
  options: { user?: string; password?: string; scopes?: string[]; query?: Record<string, string>; ip?: string } = {},
): Promise<Response> {
  const u = new URL('/service/token', url);
  u.searchParams.set('service', 'wharf');
  for (const [k, v] of Object.entries(options.query ?? {})) u.searchParams.set(k, v);
  for (const s of options.scopes ?? []) u.searchParams.append('scope', s);
  const headers: Record<string, string> = { 'x-forwarded-for': options.ip ?? '198.51.100.1' };
  if (options.user !== undefined) headers.authorization = basic(options.user, options.password);
  return fetch(u, { headers });
}

export async function getToken(url: string, options: Parameters<typeof fetchToken>[1] = {}): Promise<TokenResponse> {
  const res = await fetchToken(url, options);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text) as TokenResponse;
}

/** The claims of a JWT, unverified (to look at what was granted). */
export function claimsOf(token: string): Record<string, unknown> & { access: { type: string; name: string; actions: string[] }[] } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as never;
}

export const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** Signs a JWT by hand (RS256/ES256 via node:crypto) with the registry's own data-dir key. */
export async function forgeWithDataDirKey(dataDir: string, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const key = createPrivateKey(await readFile(path.join(dataDir, 'token', 'signing.pem'), 'utf8'));
  const input = `${b64(header)}.${b64(payload)}`;
  const opts = key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), opts).toString('base64url')}`;
}

/** Pushes a small image with an Authorization header; returns the status of the manifest PUT. */
export async function pushImage(url: string, repo: string, tag: string, authorization: string): Promise<number> {
  const image = imageParts(`${repo}-${tag}`);
  for (const blob of [image.config, image.layer]) {
    const start = await fetch(new URL(`/v2/${repo}/blobs/uploads/`, url), { method: 'POST', headers: { authorization } });
    if (start.status !== 202) return start.status;
    const location = new URL(start.headers.get('location') ?? '', url);
    location.searchParams.set('digest', sha256(blob));
    const put = await fetch(location, { method: 'PUT', body: blob, headers: { authorization, 'content-type': 'application/octet-stream' } });
    assert.equal(put.status, 201, await put.text());
  }
  const res = await fetch(new URL(`/v2/${repo}/manifests/${tag}`, url), {
    method: 'PUT',
    body: image.body,
    headers: { authorization, 'content-type': image.mediaType },
  });
  return res.status;
}
