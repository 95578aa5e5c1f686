import { randomInt } from 'node:crypto';
import type { PasswordPolicy } from './config.js';

/**
 * The password policy (Harbor's DB mode: 8 to 128 characters with an upper case letter, a lower
 * case letter and a digit) and a generator of passwords that satisfy it. Lengths count Unicode
 * code points, and the classes are Unicode's (`É` is upper case, `٣` a digit). Messages describe
 * the rule broken, never the password.
 */

const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const DIGIT = /\p{Nd}/u;

/** What is wrong with a password under a policy; empty when it is acceptable. */
export function passwordProblems(policy: PasswordPolicy, password: string): string[] {
  if (typeof password !== 'string') return ['the password must be a string'];
  const problems: string[] = [];
  const length = [...password].length;
  if (length < policy.minLength) problems.push(`must have at least ${policy.minLength} characters`);
  if (length > policy.maxLength) problems.push(`must have at most ${policy.maxLength} characters`);
  if (policy.requireUpper && !UPPER.test(password)) problems.push('must contain an upper case letter');
  if (policy.requireLower && !LOWER.test(password)) problems.push('must contain a lower case letter');
  if (policy.requireDigit && !DIGIT.test(password)) problems.push('must contain a digit');
  return problems;
}

/** Number of character classes the policy requires. */
function requiredClasses(policy: PasswordPolicy): number {
  return Number(policy.requireUpper) + Number(policy.requireLower) + Number(policy.requireDigit);
}

/**
 * Refuses a policy no password can satisfy, so a bad config fails at boot instead of at the
 * first password change.
 */
export function checkPolicy(policy: PasswordPolicy): void {
  if (policy.minLength > policy.maxLength) {
    throw new RangeError(`passwordPolicy: minLength (${policy.minLength}) is greater than maxLength (${policy.maxLength})`);
  }
  if (requiredClasses(policy) > policy.maxLength) {
    throw new RangeError(`passwordPolicy: maxLength (${policy.maxLength}) is too short for the required character classes`);
  }
}

const UPPERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWERS = 'abcdefghijkmnopqrstuvwxyz';
const DIGITS = '23456789';
// Without look-alikes (0/O, 1/l/I): the password is read from a file and typed by a person.
const ALPHABET = UPPERS + LOWERS + DIGITS;
const GENERATED_LENGTH = 24;

/**
 * A random password the policy accepts: 24 characters (about 140 bits) from a 57-letter
 * alphabet, or the policy's bounds when they exclude 24.
 */
export function generatePassword(policy: PasswordPolicy): string {
  checkPolicy(policy);
  const length = Math.min(policy.maxLength, Math.max(policy.minLength, GENERATED_LENGTH));
  const chars = Array.from({ length }, () => ALPHABET.charAt(randomInt(ALPHABET.length)));
  // Put one character of each required class at distinct random positions.
  const required = [
    ...(policy.requireUpper ? [UPPERS] : []),
    ...(policy.requireLower ? [LOWERS] : []),
    ...(policy.requireDigit ? [DIGITS] : []),
  ];
  const positions = Array.from({ length }, (_, i) => i);
  for (const set of required) {
    const [position] = positions.splice(randomInt(positions.length), 1);
    if (position !== undefined) chars[position] = set.charAt(randomInt(set.length));
  }
  return chars.join('');
}
