import type { Logger } from '@wharf/sdk';
import { firstRdnValue, isDnUnder, normalizeDn } from './dn.js';
import { buildFilter } from './filter.js';
import { attributeValues, type LdapConnection, type LdapEntry } from './ldap-connection.js';
import type { LdapSettings } from './settings.js';

/**
 * The groups of an authenticated user, by `memberOf` (no extra request) or by one search for
 * every group naming the user (never one request per group: a user in hundreds of groups must
 * still log in quickly).
 */

export interface UserGroups {
  /** Group names (the `nameAttribute` value), in directory order, without duplicates. */
  readonly names: readonly string[];
  /** True when a group is listed in `adminGroups` (by DN or by name). */
  readonly admin: boolean;
}

interface Group {
  readonly dn: string;
  readonly name: string;
}

/** Attributes the user search must return for the configured group mode. */
export function userAttributesForGroups(settings: LdapSettings): string[] {
  return settings.groups.mode === 'memberOf' ? ['memberOf'] : [];
}

/**
 * Resolves the groups. In `search` mode the connection is re-bound as the search account first:
 * after the password check it is bound as the user, who may not be allowed to read groups.
 */
export async function resolveGroups(
  connection: LdapConnection,
  user: LdapEntry,
  subject: string,
  settings: LdapSettings,
  logger: Logger,
): Promise<UserGroups> {
  const config = settings.groups;
  let groups: Group[];
  if (config.mode === 'memberOf') {
    groups = [];
    for (const dn of attributeValues(user, 'memberOf')) {
      if (config.base !== undefined && !isDnUnder(dn, config.base)) continue;
      const name = firstRdnValue(dn, config.nameAttribute);
      if (name !== undefined) groups.push({ dn, name });
    }
  } else if (config.mode === 'search' && config.base !== undefined) {
    await connection.bind(settings.bindDN, settings.bindPassword);
    const result = await connection.search(config.base, {
      scope: config.scope,
      filter: buildFilter(config.filter, { dn: user.dn, username: subject }),
      attributes: [config.nameAttribute],
      sizeLimit: 0,
    });
    if (result.truncated) {
      logger.warn({ username: subject, groups: result.entries.length }, 'ldap group search hit the size limit; groups are incomplete');
    }
    groups = [];
    for (const entry of result.entries) {
      const name = attributeValues(entry, config.nameAttribute)[0] ?? firstRdnValue(entry.dn, config.nameAttribute);
      if (name !== undefined) groups.push({ dn: entry.dn, name });
    }
  } else {
    groups = [];
  }
  return { names: unique(groups.map((g) => g.name)), admin: isAdmin(groups, config.adminGroups) };
}

/** An `adminGroups` entry with `=` is a DN; anything else is a group name. Both case-insensitive. */
export function isAdmin(groups: readonly Group[], adminGroups: readonly string[]): boolean {
  if (adminGroups.length === 0 || groups.length === 0) return false;
  const dns = new Set<string>();
  const names = new Set<string>();
  for (const entry of adminGroups) {
    if (entry.includes('=')) {
      const dn = normalizeDn(entry);
      if (dn !== undefined) dns.add(dn);
    } else {
      names.add(entry.toLowerCase());
    }
  }
  return groups.some((g) => names.has(g.name.toLowerCase()) || dns.has(normalizeDn(g.dn) ?? '\0'));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
