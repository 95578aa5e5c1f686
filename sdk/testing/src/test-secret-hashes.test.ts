import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SCRYPT, hashSecret, TEST_SCRYPT, verifySecret } from '@wharf/sdk';
import '@wharf/sdk-testing';

/** Loading the testing kit lowers the scrypt cost of new hashes, and of nothing else. */

describe('secret hashes under @wharf/sdk-testing', () => {
  it('are made with N=2^10 once the kit is loaded, the production default unchanged', async () => {
    assert.deepEqual({ ...TEST_SCRYPT }, { N: 1024, r: 8, p: 1 });
    assert.deepEqual({ ...DEFAULT_SCRYPT }, { N: 32768, r: 8, p: 1 });
    const encoded = await hashSecret('Cheap-Pass-1');
    assert.match(encoded, /^scrypt\$1024\$8\$1\$/);
    assert.equal(await verifySecret('Cheap-Pass-1', encoded), true);
    assert.equal(await verifySecret('Cheap-Pass-2', encoded), false);
  });

  it('still verifies hashes made at the production cost, and makes them when asked', async () => {
    const encoded = await hashSecret('Dear-Pass-1', DEFAULT_SCRYPT);
    assert.match(encoded, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifySecret('Dear-Pass-1', encoded), true);
    assert.equal(await verifySecret('Dear-Pass-2', encoded), false);
  });
});
