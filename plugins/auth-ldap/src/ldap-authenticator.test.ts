import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isRegistryError, type Principal } from '@wharf/sdk';
import { LdapAuthenticator } from './ldap-authenticator.js';
import type { LdapConfigInput } from './settings.js';
import { captureLogs } from '@wharf/sdk-testing';
import {
  CAROL_GROUPS,
  GROUPS_DN,
  PASSWORDS,
  PEOPLE_DN,
  SEARCH_DN,
  SEARCH_PASSWORD,
  groupDn,
  startSlapd,
  userDn,
  type Slapd,
} from './test-support/slapd.js';

/** The authenticator against a real slapd: logins, groups, refusals, injection attempts. */

let slapd: Slapd;
const logs = captureLogs({ bindings: { plugin: 'ldap' } });

before(async () => {
  slapd = await startSlapd();
});
after(async () => {
  await slapd?.stop();
});

function authenticator(extra: Partial<LdapConfigInput> = {}): LdapAuthenticator {
  return new LdapAuthenticator(
    { url: slapd.url, bindDN: SEARCH_DN, bindPassword: SEARCH_PASSWORD, userBase: PEOPLE_DN, timeoutMs: 3000, connectTimeoutMs: 3000, ...extra },
    { logger: logs.logger },
  );
}

const memberOf = (): LdapAuthenticator => authenticator({ groups: { mode: 'memberOf', adminGroups: ['registry-admins'] } });
const search = (): LdapAuthenticator =>
  authenticator({ groups: { mode: 'search', base: GROUPS_DN, adminGroups: [groupDn('Registry-Admins').toUpperCase()] } });

async function rejectsUnauthorized(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isRegistryError(err), String(err));
    assert.equal(err.code, 'UNAUTHORIZED');
    assert.equal(err.status, 401);
    assert.equal(err.message, 'invalid username or password');
    return true;
  });
}

/** Counts slapd log lines matching every needle (stats level logs one line per operation). */
async function countLog(...needles: string[]): Promise<number> {
  return (await slapd.log()).split('\n').filter((line) => needles.every((n) => line.includes(n))).length;
}

describe('LdapAuthenticator against slapd', () => {
  it('logs alice in with groups and the admin flag from memberOf', async () => {
    const p = (await memberOf().authenticate('alice', 'alicepw')) as Principal;
    assert.equal(p.subject, 'alice');
    assert.equal(p.kind, 'user');
    assert.equal(p.provider, 'ldap');
    assert.deepEqual([...p.groups].sort(), ['devs', 'registry-admins']);
    assert.equal(p.admin, true);
    assert.equal(p.displayName, 'Alice Example');
    assert.deepEqual(p.claims, { dn: userDn('alice') });
  });

  it('logs alice in with groups and the admin flag from a group search (admin group given as a DN)', async () => {
    const p = (await search().authenticate('alice', 'alicepw')) as Principal;
    assert.equal(p.subject, 'alice');
    assert.deepEqual([...p.groups].sort(), ['devs', 'registry-admins']);
    assert.equal(p.admin, true);
  });

  it('gives bob his group and no admin flag, in both modes', async () => {
    for (const auth of [memberOf(), search()]) {
      const p = (await auth.authenticate('bob', 'bobpw')) as Principal;
      assert.deepEqual(p.groups, ['devs']);
      assert.equal(p.admin, false);
    }
  });

  it('returns no groups with groups.mode none', async () => {
    const p = (await authenticator().authenticate('alice', 'alicepw')) as Principal;
    assert.deepEqual(p.groups, []);
    assert.equal(p.admin, false);
  });

  it('uses the user name as stored in LDAP as the subject', async () => {
    const p = (await memberOf().authenticate('ALICE', 'alicepw')) as Principal;
    assert.equal(p.subject, 'alice');
  });

  it('refuses bob with a wrong password: UNAUTHORIZED', async () => {
    await rejectsUnauthorized(memberOf().authenticate('bob', 'not-bobs-password'));
    await rejectsUnauthorized(memberOf().authenticate('bob', 'alicepw'));
  });

  it('answers undefined for a user the directory does not know', async () => {
    assert.equal(await memberOf().authenticate('mallory', 'whatever'), undefined);
  });

  it('refuses an empty password without binding as the user', async () => {
    const binds = await countLog('BIND dn="uid=alice,');
    assert.ok(binds > 0, 'earlier logins show up as BIND lines');
    await rejectsUnauthorized(memberOf().authenticate('alice', ''));
    assert.equal(await countLog('BIND dn="uid=alice,'), binds, 'no bind as alice was attempted');
  });

  it('never authenticates or matches another user through filter injection', async () => {
    const attempts = ['*', ')(uid=*', 'alice)(|(uid=*', '*)(uid=alice', 'alice*', 'a*', '\\00', 'alice\\00', '\\2a', '(uid=alice)'];
    for (const username of attempts) {
      for (const auth of [memberOf(), authenticator({ userFilter: '(|(uid={username})(mail={username}))' })]) {
        assert.equal(await auth.authenticate(username, 'alicepw'), undefined, username);
      }
    }
    // On the wire the values are plain equality assertions (slapd prints them re-escaped).
    assert.ok((await countLog('filter="(&(objectClass=inetOrgPerson)(uid=\\2A))"')) >= 1);
    assert.ok((await countLog('filter="(&(objectClass=inetOrgPerson)(uid=alice\\29\\28|\\28uid=\\2A))"')) >= 1);
    assert.ok((await countLog('filter="(&(objectClass=inetOrgPerson)(uid=alice\\5C00))"')) >= 1);
  });

  it('refuses real NUL bytes and control characters without any LDAP traffic', async () => {
    const searches = await countLog('SRCH base=');
    assert.ok(searches > 0, 'earlier logins show up as SRCH lines');
    for (const username of ['alice\0', '\0', 'al\0ice', '\0*', 'alice\n', 'x'.repeat(257), '']) {
      assert.equal(await memberOf().authenticate(username, 'alicepw'), undefined, JSON.stringify(username));
    }
    assert.equal(await countLog('SRCH base='), searches);
  });

  it('finds a user whose name holds filter metacharacters, and its groups by DN', async () => {
    const p = (await search().authenticate('weird(name)*', PASSWORDS['weird(name)*'] as string)) as Principal;
    assert.equal(p.subject, 'weird(name)*');
    assert.deepEqual(p.groups, ['devs']);
  });

  it('refuses when the user filter matches more than one entry, with a warning', async () => {
    const warnings = logs.at('warn').length;
    await rejectsUnauthorized(authenticator({ userFilter: '(&(objectClass=inetOrgPerson)(sn={username}))' }).authenticate('Example', 'alicepw'));
    const warning = logs.at('warn').slice(warnings)[0];
    assert.equal(warning?.msg, 'ldap login refused: the user filter matches more than one entry');
  });

  it('gives carol all 50 groups with exactly one group search', async () => {
    const carolGroupSearch = ['SRCH base="ou=groups,', 'uid=carol,'];
    const p = (await search().authenticate('carol', 'carolpw')) as Principal;
    assert.deepEqual([...p.groups].sort(), CAROL_GROUPS);
    assert.equal(p.admin, false);
    assert.equal(await countLog(...carolGroupSearch), 1);
    // memberOf mode reads them from the user entry: no group search at all.
    const q = (await memberOf().authenticate('carol', 'carolpw')) as Principal;
    assert.deepEqual([...q.groups].sort(), CAROL_GROUPS);
    assert.equal(await countLog(...carolGroupSearch), 1);
  });

  it('keeps only groups under groups.base in memberOf mode', async () => {
    const p = (await authenticator({ groups: { mode: 'memberOf', base: 'ou=elsewhere,dc=example,dc=org' } }).authenticate('alice', 'alicepw')) as Principal;
    assert.deepEqual(p.groups, []);
  });

  it('treats a wrong search-account password as a directory error, not a user refusal', async () => {
    const errors = logs.at('error').length;
    assert.equal(await authenticator({ bindPassword: 'wrong-search-pw' }).authenticate('alice', 'alicepw'), undefined);
    assert.equal(logs.at('error').slice(errors)[0]?.msg, 'ldap search account bind failed');
  });

  it('never writes a password to the log', () => {
    const text = logs.lines().join('\n');
    assert.ok(logs.lines().length > 10, 'the tests above produced log lines');
    for (const secret of [...Object.values(PASSWORDS), SEARCH_PASSWORD, 'not-bobs-password', 'wrong-search-pw']) {
      assert.ok(!text.includes(secret), `log contains "${secret}"`);
    }
  });
});
