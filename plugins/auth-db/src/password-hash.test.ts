import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it, mock } from 'node:test';
import { hashSecret, verifySecret } from '@wharf/sdk';
import { hashPassword, isPasswordHash, MalformedHashError, verifyNothing, verifyPassword } from './password-hash.js';

/**
 * scrypt hashes: the stored format, verification, and the constant-time comparison. The code
 * lives in the SDK (`hashSecret`, `verifySecret`); these are the plugin's names for it.
 */

/** A hash as stored before the code moved to the SDK: it must keep verifying. */
const STORED_BEFORE =
  'scrypt$32768$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$eEVBUmyQ7PWK5mrsR1OiVOqm+L+jdwjTHmvxdt6poIAE/0BR/dbFjwV4LYh+ie4EQrEAvUFg+pAIfbgalDMzXg==';

const FORMAT = /^scrypt\$32768\$8\$1\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

describe('password hashes', () => {
  it('are scrypt$N$r$p$salt$hash with N=2^15, r=8, p=1, a 16-byte salt and a 64-byte key', async () => {
    const encoded = await hashPassword('Correct-Horse-9');
    const m = FORMAT.exec(encoded);
    assert.ok(m, encoded);
    assert.equal(Buffer.from(m[1] as string, 'base64').length, 16);
    assert.equal(Buffer.from(m[2] as string, 'base64').length, 64);
    assert.ok(!encoded.includes('Correct-Horse-9'));
    // The same derivation node:crypto gives for these parameters.
    const key = crypto.scryptSync('Correct-Horse-9', Buffer.from(m[1] as string, 'base64'), 64, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    assert.equal(key.toString('base64'), m[2]);
  });

  it("are the SDK's secret hashes, so stored passwords stay valid", async () => {
    assert.equal(hashPassword, hashSecret);
    assert.equal(verifyPassword, verifySecret);
    assert.equal(await verifyPassword('Stored-Before-1', STORED_BEFORE), true);
    assert.equal(await verifyPassword('Stored-Before-2', STORED_BEFORE), false);
  });

  it('use a fresh salt each time', async () => {
    const [a, b] = await Promise.all([hashPassword('Same-Password-1'), hashPassword('Same-Password-1')]);
    assert.notEqual(a, b);
  });

  it('verify the right password and refuse a wrong one', async () => {
    const encoded = await hashPassword('Tr0ub4dour&3');
    assert.equal(await verifyPassword('Tr0ub4dour&3', encoded), true);
    assert.equal(await verifyPassword('Tr0ub4dour&4', encoded), false);
    assert.equal(await verifyPassword('tr0ub4dour&3', encoded), false);
    assert.equal(await verifyPassword('', encoded), false);
  });

  it('treat Unicode normalization forms of one text as the same password', async () => {
    const composed = 'Caf\u00e9-Latte-1';
    const decomposed = 'Cafe\u0301-Latte-1';
    const encoded = await hashPassword(composed);
    assert.equal(await verifyPassword(decomposed, encoded), true);
  });

  it('compare with crypto.timingSafeEqual', async (t) => {
    const encoded = await hashPassword('Timing-Safe-7');
    const spy = mock.method(crypto, 'timingSafeEqual');
    t.after(() => spy.mock.restore());
    assert.equal(await verifyPassword('Timing-Safe-7', encoded), true);
    assert.equal(await verifyPassword('Timing-Safe-8', encoded), false);
    assert.equal(spy.mock.callCount(), 2);
    const [derived, stored] = spy.mock.calls[1]?.arguments as [Buffer, Buffer];
    assert.equal(derived.length, 64);
    assert.equal(stored.length, 64);
    assert.notDeepEqual(derived, stored);
  });

  it('refuse malformed or out-of-bounds stored hashes', async () => {
    const good = await hashPassword('Good-Pass-1');
    const parts = good.split('$');
    const variants = [
      '',
      'plain',
      good.replace('scrypt$', 'bcrypt$'),
      [...parts.slice(0, 5)].join('$'),
      ['scrypt', '1000', ...parts.slice(2)].join('$'), // N not a power of two
      ['scrypt', String(2 ** 24), ...parts.slice(2)].join('$'), // N too large to accept from a row
      ['scrypt', parts[1], '0', ...parts.slice(3)].join('$'),
      ['scrypt', parts[1], parts[2], parts[3], 'not base64!', parts[5]].join('$'),
    ];
    for (const v of variants) {
      assert.equal(isPasswordHash(v), false, v);
      await assert.rejects(verifyPassword('Good-Pass-1', v), MalformedHashError, v);
    }
    assert.equal(isPasswordHash(good), true);
  });

  it('spend a verification on unknown users too', async (t) => {
    const spy = mock.method(crypto, 'scrypt');
    t.after(() => spy.mock.restore());
    await verifyNothing('Whatever-1');
    assert.ok(spy.mock.callCount() >= 1);
  });
});
