import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_USER_FILTER } from './config.js';
import { escapeFilterValue, fillFilter, isAcceptableUsername, MAX_USERNAME_LENGTH } from './escape.js';

describe('escapeFilterValue (RFC 4515)', () => {
  it('escapes the five characters RFC 4515 requires', () => {
    assert.equal(escapeFilterValue('*'), '\\2a');
    assert.equal(escapeFilterValue('('), '\\28');
    assert.equal(escapeFilterValue(')'), '\\29');
    assert.equal(escapeFilterValue('\\'), '\\5c');
    assert.equal(escapeFilterValue('\0'), '\\00');
  });

  it('leaves ordinary names alone', () => {
    assert.equal(escapeFilterValue('alice'), 'alice');
    assert.equal(escapeFilterValue('first.last@example.org'), 'first.last@example.org');
    assert.equal(escapeFilterValue('a=b,c+d;e<f>g"h#i'), 'a=b,c+d;e<f>g"h#i');
  });

  it('keeps non-ASCII characters as UTF-8 text', () => {
    assert.equal(escapeFilterValue('jürgen'), 'jürgen');
    assert.equal(escapeFilterValue('名前😀'), '名前😀');
  });

  it('escapes control characters and DEL', () => {
    assert.equal(escapeFilterValue('a\nb'), 'a\\0ab');
    assert.equal(escapeFilterValue('\u001f\u007f'), '\\1f\\7f');
  });

  it('turns injection attempts into plain values', () => {
    assert.equal(escapeFilterValue(')(uid=*'), '\\29\\28uid=\\2a');
    assert.equal(escapeFilterValue('alice)(|(uid=*'), 'alice\\29\\28|\\28uid=\\2a');
    // A literal backslash-zero-zero is three characters, not a NUL.
    assert.equal(escapeFilterValue('\\00'), '\\5c00');
    // Escaping is not idempotent on purpose: an escaped value is data, escaped again.
    assert.equal(escapeFilterValue('\\2a'), '\\5c2a');
  });
});

describe('fillFilter', () => {
  it('replaces every placeholder with the escaped value', () => {
    assert.equal(fillFilter(DEFAULT_USER_FILTER, { username: 'a*' }), '(&(objectClass=inetOrgPerson)(uid=a\\2a))');
    assert.equal(fillFilter('(|(uid={username})(mail={username}))', { username: 'x)' }), '(|(uid=x\\29)(mail=x\\29))');
  });

  it('fills several names and leaves unknown placeholders', () => {
    assert.equal(fillFilter('(&(member={dn})(x={other}))', { dn: 'uid=a(b),dc=x' }), '(&(member=uid=a\\28b\\29,dc=x)(x={other}))');
  });

  it('treats $ patterns in values literally', () => {
    assert.equal(fillFilter('(uid={username})', { username: "$&$'$`" }), "(uid=$&$'$`)");
  });
});

describe('isAcceptableUsername', () => {
  it('accepts ordinary names, including non-ASCII and punctuation', () => {
    for (const name of ['alice', 'ALICE', 'first.last@example.org', 'jürgen', '*', ')(uid=*', 'x'.repeat(MAX_USERNAME_LENGTH)]) {
      assert.equal(isAcceptableUsername(name), true, name);
    }
  });

  it('refuses empty, too long, NUL and control characters', () => {
    for (const name of ['', 'x'.repeat(MAX_USERNAME_LENGTH + 1), 'alice\0', '\0', 'a\nb', 'a\rb', 'tab\there', '\u007f', 'c1\u0085']) {
      assert.equal(isAcceptableUsername(name), false, JSON.stringify(name));
    }
  });
});
