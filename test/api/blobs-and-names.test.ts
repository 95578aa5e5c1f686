import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertOciError } from './support/client.js';
import { imageParts, sha256 } from './support/oci.js';
import { startTestRegistry, testDatabaseNames, type TestRegistry } from './support/server.js';

const database = testDatabaseNames()[0]!;

describe('blob ranges', () => {
  let reg: TestRegistry;
  const data = Buffer.from('0123456789');
  let digest: string;
  before(async () => {
    reg = await startTestRegistry(database);
    digest = await reg.client.pushBlob('ranges/r', data);
  });
  after(() => reg.close());

  const cases: [string, number, string, string][] = [
    ['bytes=2-5', 206, '2345', 'bytes 2-5/10'],
    ['bytes=7-', 206, '789', 'bytes 7-9/10'],
    ['bytes=-3', 206, '789', 'bytes 7-9/10'],
    ['bytes=0-0', 206, '0', 'bytes 0-0/10'],
    ['bytes=5-100', 206, '56789', 'bytes 5-9/10'],
  ];
  for (const [range, status, body, contentRange] of cases) {
    it(`serves Range ${range}`, async () => {
      const res = await reg.client.fetch(`/v2/ranges/r/blobs/${digest}`, { headers: { range } });
      assert.equal(res.status, status);
      assert.equal(res.headers.get('content-range'), contentRange);
      assert.equal(await res.text(), body);
    });
  }

  it('answers 416 for a range past the end', async () => {
    const res = await reg.client.fetch(`/v2/ranges/r/blobs/${digest}`, { headers: { range: 'bytes=10-20' } });
    assert.equal(res.status, 416);
    assert.equal(res.headers.get('content-range'), 'bytes */10');
  });
});

describe('names and references are validated', () => {
  let reg: TestRegistry;
  before(async () => (reg = await startTestRegistry(database)));
  after(() => reg.close());

  const badNames = ['../x', 'a/../../etc', 'Upper/case', 'a//b', '/a', 'a/', '-a', 'a..b', `${'a'.repeat(256)}`, 'a%2Fb', 'a b'];
  for (const name of badNames) {
    it(`refuses repository name ${JSON.stringify(name.slice(0, 20))} with NAME_INVALID`, async () => {
      const res = await reg.client.raw('GET', `/v2/${name.replace(/ /g, '%20')}/tags/list`);
      assert.equal(res.status, 400, res.body);
      assert.equal(JSON.parse(res.body).errors[0].code, 'NAME_INVALID');
      const push = await reg.client.raw('POST', `/v2/${name.replace(/ /g, '%20')}/blobs/uploads/`);
      assert.equal(push.status, 400, push.body);
    });
  }

  it('accepts names at the edges of the grammar', async () => {
    for (const name of ['a', 'a/b/c', 'a-b__c.d/e--f', 'a'.repeat(255)]) {
      const res = await reg.client.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(res.status, 202, name);
    }
  });

  it('refuses invalid tags', async () => {
    const image = imageParts('tags');
    for (const tag of ['-x', '.x', 'a'.repeat(129), 'a+b']) {
      const res = await reg.client.putManifest('names/tags', tag, image.body, image.mediaType);
      assert.equal(res.status, 400, tag);
      assert.equal((await res.json() as { errors: { code: string }[] }).errors[0]?.code, 'TAG_INVALID');
    }
  });

  it('answers 405 for methods an endpoint does not have', async () => {
    await assertOciError(await reg.client.fetch(`/v2/names/m/blobs/${sha256('x')}`, { method: 'PUT' }), 405, 'UNSUPPORTED');
  });

  it('never serves files outside the registry through crafted paths', async () => {
    const res = await reg.client.raw('GET', '/v2/../../../../etc/passwd/blobs/sha256:' + '0'.repeat(64));
    assert.notEqual(res.status, 200);
    assert.doesNotMatch(res.body, /root:/);
  });
});

describe('an open registry', () => {
  let reg: TestRegistry;
  before(async () => (reg = await startTestRegistry(database)));
  after(() => reg.close());

  it('ignores credentials when no auth plugin is configured, as distribution does', async () => {
    const headers = { authorization: `Basic ${Buffer.from('someone:whatever').toString('base64')}` };
    assert.equal((await reg.client.fetch('/v2/', { headers })).status, 200);
    assert.equal((await reg.client.fetch('/v2/open/x/blobs/uploads/', { method: 'POST', headers })).status, 202);
  });
});
