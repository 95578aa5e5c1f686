import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from './config.js';
import { checkPolicy, generatePassword, passwordProblems } from './password-policy.js';

/** Harbor's DB-mode rules by default; the generator always satisfies the configured policy. */

const policy = DEFAULT_PASSWORD_POLICY;

describe('password policy', () => {
  it('accepts 8 to 128 characters with upper, lower and digit', () => {
    assert.deepEqual(passwordProblems(policy, 'Abcdefg1'), []);
    assert.deepEqual(passwordProblems(policy, `A1${'b'.repeat(126)}`), []);
    assert.deepEqual(passwordProblems(policy, 'Ünïcödé-9'), []);
  });

  it('names each broken rule', () => {
    assert.deepEqual(passwordProblems(policy, 'Abcde1'), ['must have at least 8 characters']);
    assert.deepEqual(passwordProblems(policy, `A1${'b'.repeat(127)}`), ['must have at most 128 characters']);
    assert.deepEqual(passwordProblems(policy, 'abcdefg1'), ['must contain an upper case letter']);
    assert.deepEqual(passwordProblems(policy, 'ABCDEFG1'), ['must contain a lower case letter']);
    assert.deepEqual(passwordProblems(policy, 'Abcdefgh'), ['must contain a digit']);
    assert.deepEqual(passwordProblems(policy, ''), [
      'must have at least 8 characters',
      'must contain an upper case letter',
      'must contain a lower case letter',
      'must contain a digit',
    ]);
  });

  it('counts code points, not UTF-16 units', () => {
    // Four emoji are 8 UTF-16 units but 4 characters.
    assert.ok(passwordProblems(policy, 'A1b😀😀😀😀').includes('must have at least 8 characters'));
    assert.deepEqual(passwordProblems(policy, 'A1b😀😀😀😀😀'), []);
  });

  it('follows a relaxed policy', () => {
    const relaxed: PasswordPolicy = { minLength: 4, maxLength: 10, requireUpper: false, requireLower: false, requireDigit: false };
    assert.deepEqual(passwordProblems(relaxed, 'abcd'), []);
    assert.deepEqual(passwordProblems(relaxed, '12345678901'), ['must have at most 10 characters']);
  });

  it('refuses a policy nobody can satisfy', () => {
    assert.throws(() => checkPolicy({ ...policy, minLength: 20, maxLength: 10 }), /minLength \(20\) is greater than maxLength \(10\)/);
    assert.throws(() => checkPolicy({ ...policy, minLength: 1, maxLength: 2 }), /too short for the required character classes/);
    assert.doesNotThrow(() => checkPolicy(policy));
  });

  it('generates distinct passwords that meet the policy', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i += 1) {
      const pw = generatePassword(policy);
      assert.deepEqual(passwordProblems(policy, pw), [], pw);
      assert.equal(pw.length, 24);
      seen.add(pw);
    }
    assert.equal(seen.size, 200);
  });

  it('generates within tight bounds', () => {
    const tight: PasswordPolicy = { ...policy, minLength: 3, maxLength: 3 };
    for (let i = 0; i < 100; i += 1) assert.deepEqual(passwordProblems(tight, generatePassword(tight)), []);
    const long: PasswordPolicy = { ...policy, minLength: 40, maxLength: 50 };
    assert.equal(generatePassword(long).length, 40);
  });
});
