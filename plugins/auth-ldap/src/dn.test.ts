import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstRdnValue, isDnUnder, normalizeDn } from './dn.js';
import { isAdmin } from './groups.js';

describe('DN helpers', () => {
  it('normalizes case and spacing, and rejects garbage', () => {
    assert.equal(normalizeDn('CN=Registry-Admins, OU=Groups,dc=Example,dc=org'), 'cn=registry-admins,ou=groups,dc=example,dc=org');
    assert.equal(normalizeDn('not a dn'), undefined);
  });

  it('tells whether a DN lies under a base, case-insensitively, without suffix tricks', () => {
    assert.equal(isDnUnder('cn=devs,ou=groups,dc=example,dc=org', 'OU=Groups,DC=example,DC=org'), true);
    assert.equal(isDnUnder('ou=groups,dc=example,dc=org', 'ou=groups,dc=example,dc=org'), true);
    assert.equal(isDnUnder('cn=devs,ou=othergroups,dc=example,dc=org', 'ou=groups,dc=example,dc=org'), false);
    assert.equal(isDnUnder('cn=devs,ou=people,dc=example,dc=org', 'ou=groups,dc=example,dc=org'), false);
  });

  it('reads the naming value of the first RDN, unescaped', () => {
    assert.equal(firstRdnValue('cn=devs,ou=groups,dc=example,dc=org', 'cn'), 'devs');
    assert.equal(firstRdnValue('CN=Smith\\, John,ou=x', 'cn'), 'Smith, John');
    assert.equal(firstRdnValue('ou=ops+cn=Ops Team,dc=x', 'cn'), 'Ops Team');
    // Another naming attribute: its value is still the best name there is.
    assert.equal(firstRdnValue('ou=ops,dc=x', 'cn'), 'ops');
    assert.equal(firstRdnValue('garbage', 'cn'), undefined);
  });
});

describe('isAdmin', () => {
  const groups = [
    { dn: 'cn=devs,ou=groups,dc=example,dc=org', name: 'devs' },
    { dn: 'cn=Registry-Admins,ou=groups,dc=example,dc=org', name: 'Registry-Admins' },
  ];

  it('matches admin groups by name or by DN, case-insensitively', () => {
    assert.equal(isAdmin(groups, ['registry-admins']), true);
    assert.equal(isAdmin(groups, ['cn=registry-admins, ou=GROUPS,dc=example,dc=org']), true);
  });

  it('does not match a name against a DN or a DN under another base', () => {
    assert.equal(isAdmin(groups, ['admins', 'cn=registry-admins,ou=other,dc=example,dc=org']), false);
    assert.equal(isAdmin(groups, []), false);
    assert.equal(isAdmin([], ['registry-admins']), false);
  });
});
