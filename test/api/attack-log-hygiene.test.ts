import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_PASSWORD, basic, startApiRegistry, type ApiRegistry } from './support/api-kit.js';
import { testDatabaseNames } from './support/server.js';

/**
 * What an attacker can make the registry write to its log: raw request bytes (passwords in
 * Authorization headers and form bodies) when Node's HTTP parser fails mid-body, and lines as
 * long as the input they quote. The registry logs at debug level here, the most it ever writes.
 */

const PASSWORD = 'Pw-in-the-Header-77';
const FORM_PASSWORD = 'Pw-in-the-Form-88';

/** Writes raw bytes on one connection and waits until the server answers or closes. */
async function rawExchange(url: string, bytes: Buffer[]): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number.parseInt(port, 10), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  for (const part of bytes) {
    socket.write(part);
    await sleep(30);
  }
  await Promise.race([closed, sleep(1500)]);
  socket.destroy();
  return answer;
}

for (const database of testDatabaseNames()) {
  describe(`attack: log hygiene (${database})`, () => {
    let reg: ApiRegistry;
    const logs: string[] = [];
    before(async () => {
      reg = await startApiRegistry(database, { logs, overrides: { log: { level: 'debug', format: 'json' } } });
    });
    after(() => reg.close());

    const credentialsHeader = `Authorization: ${basic('admin', PASSWORD)}\r\n`;
    const form = `grant_type=password&username=admin&password=${FORM_PASSWORD}&service=wharf`;

    function assertClean(since: number): void {
      const written = logs.slice(since).join('\n');
      for (const secret of [PASSWORD, FORM_PASSWORD, Buffer.from(`admin:${PASSWORD}`).toString('base64')]) {
        assert.ok(!written.includes(secret), `a log line holds ${secret}:\n${written.slice(0, 3000)}`);
      }
      assert.ok(!written.includes('rawPacket'), 'no raw packet is logged');
      // Neither as bytes in Buffer's JSON form.
      assert.ok(!/"type":"Buffer","data":\[/.test(written), 'no buffer is logged');
    }

    it('logs no raw packet when the body of a token request breaks the parser', async () => {
      const since = logs.length;
      // A chunked form whose second chunk size is garbage: the parser fails while the body is read.
      const head =
        `POST /service/token HTTP/1.1\r\nHost: x\r\n${credentialsHeader}Content-Type: application/x-www-form-urlencoded\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n`;
      const chunk = `${Buffer.byteLength(form).toString(16)}\r\n${form}\r\n`;
      await rawExchange(reg.url, [Buffer.from(head + chunk), Buffer.from('ZZZ-not-a-size\r\n\u0000\u0001garbage\r\n')]);
      // A short Content-Length, then garbage on the same connection.
      const short = `POST /service/token HTTP/1.1\r\nHost: x\r\n${credentialsHeader}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\n`;
      await rawExchange(reg.url, [Buffer.from(short + form), Buffer.from('\u0000\u0001\u0002 garbage GARBAGE\r\n\r\n')]);
      // A PUT with a short Content-Length and credentials.
      const put = `PUT /v2/x/manifests/v1 HTTP/1.1\r\nHost: x\r\n${credentialsHeader}Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"password":"${FORM_PASSWORD}"}\u0000\r\n\r\n`;
      await rawExchange(reg.url, [Buffer.from(put)]);
      await sleep(100);
      assert.ok(logs.length > since, 'the requests were logged at all');
      assertClean(since);
    });

    it('caps what a log line repeats of attacker-sized input', async () => {
      const since = logs.length;
      const huge = 'u'.repeat(11_000);
      const res = await fetch(`${reg.url}/service/token?service=wharf`, { headers: { authorization: basic(huge, 'x'), 'x-forwarded-for': '203.0.113.91' } });
      assert.equal(res.status, 401);
      const ref = 'r'.repeat(9000);
      await fetch(`${reg.url}/v2/x/manifests/${ref}`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } });
      await fetch(`${reg.url}/v2/x/tags/list?n=${'9'.repeat(8000)}&last=${'l'.repeat(8000)}`, { headers: { authorization: basic('admin', ADMIN_PASSWORD) } });
      await sleep(50);
      const written = logs.slice(since);
      assert.ok(written.some((l) => l.includes('login failed')), 'the failed login is logged');
      for (const line of written) assert.ok(line.length < 4096, `a ${line.length}-byte line: ${line.slice(0, 300)}`);
      assertClean(since);
    });
  });
}
