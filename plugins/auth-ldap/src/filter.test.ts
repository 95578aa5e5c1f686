import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ldap from 'ldapjs';
import { DEFAULT_USER_FILTER } from './config.js';
import { buildFilter, FilterSyntaxError, parseFilter, type LdapFilter } from './filter.js';

/** The runtime shape of ldapjs filter objects, for assertions. */
interface Node {
  type: string;
  attribute?: string;
  value?: unknown;
  filters?: Node[];
  filter?: Node;
  initial?: string;
  any?: string[];
  final?: string;
  matchingRule?: string;
  dnAttributes?: boolean;
  toBer(): { buffer: Buffer };
}
const node = (f: LdapFilter): Node => f as unknown as Node;
const ber = (f: unknown): string => Buffer.from((f as Node).toBer().buffer).toString('hex');

describe('parseFilter', () => {
  it('decodes escapes into the value sent on the wire', () => {
    const f = node(parseFilter('(uid=\\2a\\28\\29\\5c\\00)'));
    assert.equal(f.type, 'EqualityFilter');
    assert.equal(f.value, '*()\\\0');
    // Same bytes as a filter built from the raw value: no literal "\2a" goes out.
    assert.equal(ber(f), ber(new ldap.EqualityFilter({ attribute: 'uid', value: Buffer.from('*()\\\0') })));
  });

  it('encodes non-ASCII values as UTF-8, escaped or not', () => {
    assert.equal(node(parseFilter('(cn=jürgen)')).value, 'jürgen');
    assert.equal(node(parseFilter('(cn=j\\c3\\bcrgen)')).value, 'jürgen');
    assert.equal(node(parseFilter('(cn=😀)')).value, '😀');
  });

  it('parses and, or, not and every item kind', () => {
    const f = node(parseFilter('(&(objectClass=person)(|(uid=a)(!(mail=*)))(cn=a*b*c)(age>=3)(age<=9)(sn~=smyth)(cn:dn:2.5.13.5:=John)(:1.2.3:=x))'));
    assert.equal(f.type, 'AndFilter');
    const kids = f.filters ?? [];
    assert.deepEqual(
      kids.map((k) => k.type),
      ['EqualityFilter', 'OrFilter', 'SubstringFilter', 'GreaterThanEqualsFilter', 'LessThanEqualsFilter', 'ApproximateFilter', 'ExtensibleFilter', 'ExtensibleFilter'],
    );
    const or = kids[1] as Node;
    assert.equal(or.filters?.[1]?.type, 'NotFilter');
    assert.equal(or.filters?.[1]?.filter?.type, 'PresenceFilter');
    const sub = kids[2] as Node;
    assert.deepEqual([sub.initial, sub.any, sub.final], ['a', ['b'], 'c']);
    const ext = kids[6] as Node;
    assert.deepEqual([ext.attribute, ext.matchingRule, ext.dnAttributes, ext.value], ['cn', '2.5.13.5', true, 'John']);
  });

  it('parses substrings with empty initial or final', () => {
    const f = node(parseFilter('(cn=*mid\\2a*)'));
    assert.equal(f.type, 'SubstringFilter');
    assert.deepEqual([f.initial, f.any, f.final], ['', ['mid*'], '']);
  });

  it('rejects malformed filters', () => {
    for (const bad of ['uid=a', '(uid=a', '(uid=a))', '(=a)', '(uid=a(b)', '(uid=\\zz)', '(uid=\\2)', '(&(uid=a)', '(u id=a)', '(cn=a**b)', '(:=x)', '(cn:foo bar:=x)']) {
      assert.throws(() => parseFilter(bad), FilterSyntaxError, bad);
    }
  });
});

describe('buildFilter', () => {
  it('keeps injection attempts inside one equality value', () => {
    for (const username of [')(uid=*', 'alice)(|(uid=*', '*', '\\00', 'a\\2a']) {
      const f = node(buildFilter(DEFAULT_USER_FILTER, { username }));
      assert.equal(f.type, 'AndFilter');
      assert.equal(f.filters?.length, 2);
      const uid = f.filters?.[1] as Node;
      assert.equal(uid.type, 'EqualityFilter', username);
      assert.equal(uid.attribute, 'uid');
      assert.equal(uid.value, username);
    }
  });

  it('puts a DN with special characters into a member filter unchanged', () => {
    const dn = 'uid=weird(name)*,ou=people,dc=example,dc=org';
    const f = node(buildFilter('(&(objectClass=groupOfNames)(member={dn}))', { dn }));
    assert.equal(f.filters?.[1]?.value, dn);
  });
});
