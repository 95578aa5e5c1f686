import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { KernelError } from '@wharf/sdk';
import { DEFAULT_GROUP_FILTER, DEFAULT_USER_FILTER, type LdapConfig, type LdapScope } from './config.js';

/**
 * The config with every default filled in and the cross-field rules checked. The kernel applies
 * schema defaults already; resolving again keeps the authenticator usable on its own (tests,
 * embedders) and in one place says what the defaults are.
 */

type GroupsInput = Partial<LdapConfig['groups']>;
type TlsInput = Partial<LdapConfig['tls']>;

/** What a caller must give: the required keys; everything else falls back to its default. */
export type LdapConfigInput = Pick<LdapConfig, 'url' | 'bindDN' | 'bindPassword' | 'userBase'> &
  Partial<Omit<LdapConfig, 'url' | 'bindDN' | 'bindPassword' | 'userBase' | 'groups' | 'tls'>> & {
    readonly groups?: GroupsInput | undefined;
    readonly tls?: TlsInput | undefined;
  };

export type LdapSettings = LdapConfig;

function invalid(message: string): KernelError {
  return new KernelError('REG_ERR_CONFIG_INVALID', `ldap: ${message}`, { plugin: 'ldap' });
}

const SCOPES: readonly LdapScope[] = ['sub', 'one', 'base'];

/** Fills defaults and checks what the schema cannot express. Throws a `KernelError`. */
export function resolveSettings(input: LdapConfigInput): LdapSettings {
  const groups = input.groups ?? {};
  const settings: LdapSettings = {
    url: input.url,
    bindDN: input.bindDN,
    bindPassword: input.bindPassword,
    userBase: input.userBase,
    userFilter: input.userFilter ?? DEFAULT_USER_FILTER,
    userScope: input.userScope ?? 'sub',
    usernameAttribute: input.usernameAttribute ?? 'uid',
    displayNameAttribute: input.displayNameAttribute ?? 'cn',
    groups: {
      mode: groups.mode ?? 'none',
      ...(groups.base !== undefined ? { base: groups.base } : {}),
      filter: groups.filter ?? DEFAULT_GROUP_FILTER,
      scope: groups.scope ?? 'sub',
      nameAttribute: groups.nameAttribute ?? 'cn',
      adminGroups: [...(groups.adminGroups ?? [])],
    },
    startTLS: input.startTLS ?? false,
    tls: {
      ...(input.tls?.ca !== undefined ? { ca: input.tls.ca } : {}),
      rejectUnauthorized: input.tls?.rejectUnauthorized ?? true,
    },
    connectTimeoutMs: input.connectTimeoutMs ?? 5000,
    timeoutMs: input.timeoutMs ?? 5000,
  };
  let url: URL;
  try {
    url = new URL(settings.url);
  } catch {
    throw invalid(`url "${settings.url}" is not a URL`);
  }
  if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') throw invalid(`url must start with ldap:// or ldaps://`);
  if (url.username || url.password) throw invalid('url must not carry credentials; use bindDN and bindPassword');
  if (settings.startTLS && url.protocol === 'ldaps:') throw invalid('startTLS is for ldap:// URLs; ldaps:// is TLS already');
  if (!settings.userFilter.includes('{username}')) throw invalid('userFilter must contain {username}');
  if (!SCOPES.includes(settings.userScope) || !SCOPES.includes(settings.groups.scope)) throw invalid('scope must be sub, one or base');
  if (settings.groups.mode === 'search' && settings.groups.base === undefined) throw invalid('groups.base is required with groups.mode "search"');
  if (!(settings.connectTimeoutMs > 0) || !(settings.timeoutMs > 0)) throw invalid('timeouts must be positive');
  return settings;
}

/** True when `ca` is PEM text rather than a file path. */
export function isInlinePem(ca: string): boolean {
  return ca.includes('-----BEGIN ');
}

/**
 * TLS options for ldaps:// and StartTLS. A CA given as a path is read here (relative paths are
 * resolved against the data directory); never call this from `register`.
 */
export async function loadTlsOptions(tls: LdapSettings['tls'], baseDir: string): Promise<ConnectionOptions> {
  const options: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized };
  if (tls.ca === undefined) return options;
  if (isInlinePem(tls.ca)) return { ...options, ca: tls.ca };
  const file = path.resolve(baseDir, tls.ca);
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    throw invalid(`tls.ca: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!isInlinePem(pem)) throw invalid(`tls.ca: ${file} holds no PEM certificate`);
  return { ...options, ca: pem };
}
