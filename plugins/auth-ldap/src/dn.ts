import ldap from 'ldapjs';

/**
 * Distinguished-name helpers for matching groups. Comparisons are case-insensitive, which is how
 * directories match the naming attributes used in group DNs (cn, ou, dc: caseIgnoreMatch).
 */

// The runtime API of @ldapjs/dn, which @types/ldapjs only partly describes.
interface RuntimeRdn {
  keys(): Iterable<string>;
  getValue(name: string): unknown;
}
interface RuntimeDn {
  rdnAt(index: number): RuntimeRdn | undefined;
  toString(): string;
}

function parse(dn: string): RuntimeDn {
  return ldap.parseDN(dn) as unknown as RuntimeDn;
}

/** A DN in one canonical spelling (parsed, re-serialised, lower-cased), or `undefined` if invalid. */
export function normalizeDn(dn: string): string | undefined {
  try {
    return parse(dn).toString().toLowerCase();
  } catch {
    return undefined;
  }
}

/** True when `dn` is `base` or lies below it. Both are normalized first. */
export function isDnUnder(dn: string, base: string): boolean {
  const d = normalizeDn(dn);
  const b = normalizeDn(base);
  if (d === undefined || b === undefined) return false;
  return d === b || d.endsWith(`,${b}`);
}

/**
 * The value of `attribute` in the first RDN of `dn` (`cn=devs,ou=groups` -> `devs`), unescaped.
 * Falls back to the first RDN's first value when that attribute is not in it.
 */
export function firstRdnValue(dn: string, attribute: string): string | undefined {
  let rdn: RuntimeRdn | undefined;
  try {
    rdn = parse(dn).rdnAt(0);
  } catch {
    return undefined;
  }
  if (!rdn) return undefined;
  const keys = [...rdn.keys()];
  const key = keys.find((k) => k.toLowerCase() === attribute.toLowerCase()) ?? keys[0];
  if (key === undefined) return undefined;
  const value = rdn.getValue(key);
  return typeof value === 'string' ? value : undefined;
}
