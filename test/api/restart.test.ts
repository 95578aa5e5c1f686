import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { withQuery } from './support/client.js';
import { sha256 } from './support/oci.js';
import { startTestRegistry, testDatabaseNames, type TestRegistry } from './support/server.js';

for (const database of testDatabaseNames()) {
  describe(`uploads survive a restart (${database})`, () => {
    let reg: TestRegistry;
    after(() => reg.close());

    it('continues an upload started before the restart and verifies its digest from storage', async () => {
      reg = await startTestRegistry(database);
      const data = Buffer.alloc(2 * 1024 * 1024, 3);
      data.write('unique-restart-content');
      const start = await reg.client.fetch('/v2/restart/img/blobs/uploads/', { method: 'POST' });
      const location = start.headers.get('location')!;
      const first = await reg.client.fetch(location, { method: 'PATCH', body: data.subarray(0, 1024 * 1024), headers: { 'content-range': `0-${1024 * 1024 - 1}` } });
      assert.equal(first.status, 202);

      reg = await reg.restart();
      const status = await reg.client.fetch(location);
      assert.equal(status.status, 204);
      assert.equal(status.headers.get('range'), `0-${1024 * 1024 - 1}`);
      const put = await reg.client.fetch(withQuery(location, { digest: sha256(data) }), {
        method: 'PUT', body: data.subarray(1024 * 1024), headers: { 'content-range': `${1024 * 1024}-${data.length - 1}` },
      });
      assert.equal(put.status, 201, await put.text());
      const get = await reg.client.fetch(`/v2/restart/img/blobs/${sha256(data)}`);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
    });
  });
}
