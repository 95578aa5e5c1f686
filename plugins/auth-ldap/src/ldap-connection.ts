import type { ConnectionOptions } from 'node:tls';
import { isIP } from 'node:net';
import ldap from 'ldapjs';
import type { LdapFilter } from './filter.js';

/**
 * One short-lived LDAP connection with promise-based operations. Every step has its own deadline
 * (ldapjs's timers do not cover a stalled TLS handshake, StartTLS or a search that stops half
 * way), a timed-out connection is destroyed, and ldapjs 'error' events always have a listener:
 * an unhandled one would crash the process.
 */

export interface ConnectionSettings {
  readonly url: string;
  readonly startTLS: boolean;
  /** Options for ldaps:// and StartTLS (CA, rejectUnauthorized). */
  readonly tls: ConnectionOptions;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  /** Errors ldapjs reports after the step they belong to has settled. */
  readonly onLateError?: (err: Error) => void;
}

/** A search result entry: its DN and its attributes by lower-cased name. */
export interface LdapEntry {
  readonly dn: string;
  readonly attributes: ReadonlyMap<string, readonly string[]>;
}

export interface SearchRequest {
  readonly scope: 'base' | 'one' | 'sub';
  readonly filter: LdapFilter;
  readonly attributes: readonly string[];
  /** 0 for the server's limit. */
  readonly sizeLimit: number;
}

export interface SearchResult {
  readonly entries: readonly LdapEntry[];
  /** The server stopped at the size limit: there are more entries than `entries`. */
  readonly truncated: boolean;
}

/** A step did not finish in time; the connection was dropped. */
export class LdapTimeoutError extends Error {
  constructor(step: string, ms: number) {
    super(`ldap ${step} timed out after ${ms} ms`);
    this.name = 'LdapTimeoutError';
  }
}

const LDAP_SIZE_LIMIT_EXCEEDED = 4;
const LDAP_INVALID_CREDENTIALS = 49;

function resultCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** True for the bind result "invalid credentials" (49). */
export function isInvalidCredentials(err: unknown): boolean {
  return resultCode(err) === LDAP_INVALID_CREDENTIALS;
}

/** The values of an attribute (case-insensitive name), or an empty list. */
export function attributeValues(entry: LdapEntry, name: string): readonly string[] {
  return entry.attributes.get(name.toLowerCase()) ?? [];
}

const CONNECT_FAILURES = ['connectError', 'connectRefused', 'connectTimeout', 'setupError', 'error'] as const;

export class LdapConnection {
  private closed = false;

  private constructor(
    private readonly client: ldap.Client,
    private readonly settings: ConnectionSettings,
  ) {}

  /** Connects (and upgrades with StartTLS when configured). Rejects on failure or timeout. */
  static async open(settings: ConnectionSettings): Promise<LdapConnection> {
    const url = new URL(settings.url);
    const client = ldap.createClient({
      url: settings.url,
      connectTimeout: settings.connectTimeoutMs,
      timeout: settings.timeoutMs,
      tlsOptions: settings.tls,
      reconnect: false,
    });
    // Attached before the event loop turns: ldapjs emits 'error' for connect and socket failures.
    client.on('error', (err: Error) => settings.onLateError?.(err));
    const connection = new LdapConnection(client, settings);
    try {
      await connection.step('connect', settings.connectTimeoutMs, (resolve, reject) => {
        const fail = (err: unknown): void => {
          cleanup();
          reject(err instanceof Error ? err : new Error(String(err)));
        };
        const ok = (): void => {
          cleanup();
          resolve(undefined);
        };
        const cleanup = (): void => {
          client.removeListener('connect', ok);
          for (const event of CONNECT_FAILURES) client.removeListener(event, fail);
        };
        client.once('connect', ok);
        for (const event of CONNECT_FAILURES) client.once(event, fail);
      });
      if (settings.startTLS) {
        // No servername for an IP: Node refuses SNI with an IP and checks the IP SAN via `host`.
        const host = url.hostname.replace(/^\[|\]$/g, '');
        const options: ConnectionOptions = { ...settings.tls, host, ...(isIP(host) ? {} : { servername: host }) };
        await connection.step('starttls', settings.timeoutMs, (resolve, reject) => {
          client.starttls(options, [], (err: Error | null) => (err ? reject(err) : resolve(undefined)));
        });
      }
      return connection;
    } catch (err) {
      connection.close();
      throw err;
    }
  }

  /** Simple bind. Rejects with the server's error (see {@link isInvalidCredentials}). */
  async bind(dn: string, password: string): Promise<void> {
    await this.step('bind', this.settings.timeoutMs, (resolve, reject) => {
      this.client.bind(dn, password, (err: Error | null) => (err ? reject(err) : resolve(undefined)));
    });
  }

  /** Runs one search and collects its entries. Referrals are ignored. */
  search(base: string, request: SearchRequest): Promise<SearchResult> {
    const timeLimit = Math.max(1, Math.ceil(this.settings.timeoutMs / 1000));
    return this.step<SearchResult>('search', this.settings.timeoutMs, (resolve, reject) => {
      const options: ldap.SearchOptions = {
        scope: request.scope,
        filter: request.filter,
        attributes: [...request.attributes],
        sizeLimit: request.sizeLimit,
        timeLimit,
      };
      this.client.search(base, options, (err, res) => {
        if (err) return reject(err);
        const entries: LdapEntry[] = [];
        res.on('searchEntry', (entry: ldap.SearchEntry) => entries.push(toEntry(entry)));
        res.on('error', (e: Error) => {
          if (resultCode(e) === LDAP_SIZE_LIMIT_EXCEEDED) resolve({ entries, truncated: true });
          else reject(e);
        });
        res.on('end', () => resolve({ entries, truncated: false }));
      });
    });
  }

  /** Unbinds and drops the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // destroy() sends an unbind when connected, then closes the socket.
      this.client.destroy();
    } catch (err) {
      this.settings.onLateError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Runs one step with a deadline; on timeout the connection is closed (it is no longer usable). */
  private step<T>(name: string, ms: number, run: (resolve: (value: T) => void, reject: (err: unknown) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // ldapjs queues requests on a dropped connection (no reconnect here): fail now instead.
      if (name !== 'connect' && (this.closed || !this.client.connected)) {
        reject(new Error(`ldap ${name}: connection closed`));
        return;
      }
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.close();
        reject(new LdapTimeoutError(name, ms));
      }, ms);
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      try {
        run(
          (value) => finish(() => resolve(value)),
          (err) => finish(() => reject(err)),
        );
      } catch (err) {
        // ldapjs throws synchronously on malformed input (a bad DN, for one).
        finish(() => reject(err));
      }
    });
  }
}

function toEntry(entry: ldap.SearchEntry): LdapEntry {
  const pojo = entry.pojo;
  const attributes = new Map<string, string[]>();
  for (const attribute of pojo.attributes ?? []) {
    const key = attribute.type.toLowerCase();
    const values = attributes.get(key) ?? [];
    for (const v of attribute.values ?? []) values.push(String(v));
    attributes.set(key, values);
  }
  return { dn: String(pojo.objectName ?? ''), attributes };
}
